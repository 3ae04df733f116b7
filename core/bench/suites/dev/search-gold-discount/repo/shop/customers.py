from dataclasses import dataclass


@dataclass
class Customer:
    name: str
    tier: str  # as stored in the CRM export: "GOLD", "SILVER" or "NONE"


def from_row(row):
    name, tier = row.split(",")
    return Customer(name.strip(), tier.strip())
