from dataclasses import dataclass


@dataclass
class User:
    id: int
    name: str
    email: str = ""

    def to_dict(self):
        return {"id": self.id, "name": self.name, "email": self.email}
