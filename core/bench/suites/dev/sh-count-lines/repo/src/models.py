class User:
    def __init__(self, name):
        self.name = name


class Group:
    def __init__(self, members):
        self.members = members

    def size(self):
        return len(self.members)

