"""The words the sandbox's seeded world is made of: company and person names, cities, items,
locations, carriers and the states records can be in.

Plain tables, kept apart from the records built from them (:mod:`sandbox.dataset`), so that
each reads on its own.
"""

from __future__ import annotations

COMPANY_HEADS = (
    "Adatum",
    "Alpine",
    "Bluewater",
    "Contoso",
    "Coho",
    "Fabrikam",
    "Fourth Coffee",
    "Graphic",
    "Humongous",
    "Litware",
    "Lucerne",
    "Margie's",
    "Northwind",
    "Proseware",
    "Southridge",
    "Tailspin",
    "Trey",
    "Wide World",
    "Wingtip",
    "Woodgrove",
    "Relecloud",
    "Cronus",
    "Datum",
    "Blue Yonder",
    "Consolidated",
    "Lamna",
    "Munson's",
    "Nod",
    "Olympia",
    "Quest",
)
COMPANY_TAILS = (
    "Traders",
    "Supplies",
    "Logistics",
    "Outfitters",
    "Industries",
    "Retail",
    "Wholesale",
    "Hardware",
    "Furnishings",
    "Distribution",
    "Partners",
    "Goods",
    "Workshop",
    "Stores",
)
CITIES = (
    ("Atlanta", "30301", "US", "United States"),
    ("Chicago", "60601", "US", "United States"),
    ("Denver", "80201", "US", "United States"),
    ("Seattle", "98101", "US", "United States"),
    ("Toronto", "M5H 2N2", "CA", "Canada"),
    ("London", "EC1A 1BB", "GB", "United Kingdom"),
    ("Manchester", "M1 1AE", "GB", "United Kingdom"),
    ("Berlin", "10115", "DE", "Germany"),
    ("Hamburg", "20095", "DE", "Germany"),
    ("Lyon", "69001", "FR", "France"),
    ("Rotterdam", "3011", "NL", "Netherlands"),
    ("Copenhagen", "1050", "DK", "Denmark"),
)
COUNTRY_IDS = {"US": 233, "CA": 38, "GB": 231, "DE": 57, "FR": 75, "NL": 165, "DK": 58}
STREETS = ("Main St", "Market St", "Harbour Rd", "Mill Lane", "Station Rd", "Park Ave", "Oak Way")
FIRST = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST = (
    "Andersen",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Meyer",
    "Novak",
    "Olsen",
    "Patel",
    "Rossi",
    "Schmidt",
)
ITEM_KINDS = (
    ("ATHENS Desk", "1000"),
    ("PARIS Guest Chair", "1100"),
    ("ROME Guest Chair", "1200"),
    ("TOKYO Guest Chair", "1300"),
    ("MEXICO Swivel Chair", "1400"),
    ("MUNICH Swivel Chair", "1500"),
    ("MOSCOW Swivel Chair", "1600"),
    ("SEOUL Guest Chair", "1700"),
    ("ATLANTA Whiteboard", "1800"),
    ("SYDNEY Swivel Chair", "1900"),
    ("LONDON Swivel Chair", "2000"),
    ("AMSTERDAM Lamp", "2100"),
    ("BERLIN Filing Cabinet", "2200"),
    ("OSLO Bookcase", "2300"),
    ("LISBON Side Table", "2400"),
)
VARIANTS = (
    ("BK", "black"),
    ("WH", "white"),
    ("GR", "grey"),
    ("OK", "oak"),
    ("WN", "walnut"),
    ("RD", "red"),
    ("BL", "blue"),
    ("GN", "green"),
    ("YL", "yellow"),
    ("SL", "silver"),
)
LOCATIONS = ("MAIN-A1", "MAIN-A2", "MAIN-B1", "MAIN-B2", "EAST-DOCK", "WEST-RACK", "RECEIVING")
CARRIERS = ("UPS", "FedEx", "DHL", "USPS", "Will Call")
ORDER_STATUSES = ("Open", "Released", "Pending_Approval", "Pending_Prepayment")
LEAD_STAGES = ((1, "New"), (2, "Qualified"), (3, "Proposition"), (4, "Won"))
SALESPEOPLE = ((2, "Mitchell Admin"), (6, "Marc Demo"), (7, "Joel Willis"))
