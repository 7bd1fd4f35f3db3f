"""Word lists for the synthetic catalog. Invented for this project: nothing here comes from
DummyJSON's data, only the *kinds* of oddities its data has (apostrophes, ampersands, dots,
accents, emoji, hyphenated words that its search cannot find)."""

from __future__ import annotations

from typing import NamedTuple


class CategorySpec(NamedTuple):
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    price_range: tuple[float, float]
    tags: tuple[str, ...]


# The generator picks some of these per seed and sorts them, so the order here is free.
CATEGORY_POOL: dict[str, CategorySpec] = {
    "audio": CategorySpec(
        ("Speaker", "Soundbar", "Turntable", "Amplifier", "Radio", "Subwoofer"),
        ("Wireless", "Retro", "Compact", "Studio", "Portable", "Hi-Fi"),
        (19.0, 1499.0),
        ("electronics", "audio", "music"),
    ),
    "bakeware": CategorySpec(
        ("Loaf Tin", "Muffin Tray", "Pie Dish", "Baking Sheet", "Cake Ring", "Rolling Pin"),
        ("Non-Stick", "Ceramic", "Enamel", "Silicone", "Fluted", "Heavy"),
        (4.0, 89.0),
        ("kitchen", "baking"),
    ),
    "bath-and-body": CategorySpec(
        ("Body Wash", "Bath Salts", "Hand Cream", "Loofah", "Soap Bar", "Bath Bomb"),
        ("Lavender", "Oat Milk", "Sea Salt", "Citrus", "Unscented", "Rose"),
        (3.0, 49.0),
        ("beauty", "bath", "self-care"),
    ),
    "bicycles": CategorySpec(
        ("Road Bike", "Gravel Bike", "City Bike", "Cargo Bike", "Kids Bike", "E-Bike"),
        ("Carbon", "Steel", "Folding", "Touring", "Fixed-Gear", "Electric"),
        (149.0, 14999.0),
        ("sports", "cycling", "outdoor"),
    ),
    "board-games": CategorySpec(
        ("Strategy Game", "Card Game", "Puzzle", "Dice Set", "Chess Set", "Party Game"),
        ("Classic", "Deluxe", "Travel", "Family", "Cooperative", "Wooden"),
        (5.0, 149.0),
        ("games", "family", "gifts"),
    ),
    "camping-gear": CategorySpec(
        ("Tent", "Sleeping Bag", "Camp Stove", "Lantern", "Hammock", "Water Filter"),
        ("Ultralight", "Two-Person", "Waterproof", "Four-Season", "Solar", "Compact"),
        (9.0, 899.0),
        ("outdoor", "camping"),
    ),
    "candles": CategorySpec(
        ("Candle", "Tealight Set", "Pillar Candle", "Wax Melt", "Candle Holder"),
        ("Vanilla", "Amber", "Fig", "Cedar", "Soy", "Hand-Poured"),
        (2.0, 79.0),
        ("home", "decor", "gifts"),
    ),
    "cookware": CategorySpec(
        ("Skillet", "Saucepan", "Dutch Oven", "Wok", "Stock Pot", "Grill Pan"),
        ("Cast Iron", "Non-Stick", "Copper", "Stainless", "Enamel", "Carbon Steel"),
        (12.0, 699.0),
        ("kitchen", "cooking"),
    ),
    "desk-accessories": CategorySpec(
        ("Desk Lamp", "Pen Holder", "Monitor Stand", "Desk Mat", "Notebook", "Organizer"),
        ("Walnut", "Minimal", "Adjustable", "Leather", "Bamboo", "Modular"),
        (3.0, 249.0),
        ("office", "desk", "stationery"),
    ),
    "perfumes": CategorySpec(
        ("Eau de Parfum", "Cologne", "Body Mist", "Perfume Oil", "Room Spray"),
        ("Midnight", "Vetiver", "Oud", "Neroli", "Musk", "Bergamot"),
        (9.0, 399.0),
        ("beauty", "fragrances", "perfumes"),
    ),
    "garden-tools": CategorySpec(
        ("Trowel", "Pruning Shears", "Watering Can", "Rake", "Hose Reel", "Kneeler"),
        ("Ergonomic", "Stainless", "Heavy-Duty", "Telescopic", "Ash-Handled", "Compact"),
        (4.0, 199.0),
        ("garden", "outdoor", "tools"),
    ),
    "hair-care": CategorySpec(
        ("Shampoo", "Conditioner", "Hair Oil", "Hair Mask", "Comb", "Hair Dryer"),
        ("Argan", "Volumising", "Curl-Defining", "Sulfate-Free", "Keratin", "Daily"),
        (3.0, 299.0),
        ("beauty", "hair"),
    ),
    "headphones": CategorySpec(
        ("Headphones", "Earbuds", "Headset", "Earphones", "Neckband"),
        ("Noise-Cancelling", "Over-Ear", "True Wireless", "Gaming", "Open-Back", "Sport"),
        (9.0, 799.0),
        ("electronics", "audio"),
    ),
    "home-lighting": CategorySpec(
        ("Lamp", "Pendant Light", "Floor Lamp", "Wall Sconce", "String Lights", "Bulb"),
        ("Red", "Brass", "Paper", "Smart", "Dimmable", "Industrial"),
        (6.0, 599.0),
        ("home", "lighting", "decor"),
    ),
    "kids-toys": CategorySpec(
        ("Building Blocks", "Plush Bear", "Train Set", "Kite", "Puzzle Cube", "Doll House"),
        ("Rainbow", "Wooden", "Giant", "Mini", "Glow-in-the-Dark", "Musical"),
        (3.0, 249.0),
        ("kids", "toys", "gifts"),
    ),
    "kitchen-appliances": CategorySpec(
        ("Blender", "Toaster", "Kettle", "Espresso Machine", "Air Fryer", "Stand Mixer"),
        ("Smart", "Retro", "Compact", "Pro", "Cordless", "Digital"),
        (19.0, 12999.0),
        ("kitchen", "appliances", "electronics"),
    ),
    "mens-jackets": CategorySpec(
        ("Parka", "Bomber Jacket", "Rain Jacket", "Denim Jacket", "Gilet", "Overcoat"),
        ("Quilted", "Waxed", "Insulated", "Lightweight", "Wool-Blend", "Packable"),
        (29.0, 899.0),
        ("clothing", "men", "outerwear"),
    ),
    "mens-footwear": CategorySpec(
        ("Sneakers", "Derby Shoes", "Chelsea Boots", "Loafers", "Trail Runners", "Sandals"),
        ("Suede", "Leather", "Canvas", "Vegan", "Slip-On", "High-Top"),
        (19.0, 599.0),
        ("clothing", "men", "footwear"),
    ),
    "office-chairs": CategorySpec(
        ("Task Chair", "Stool", "Kneeling Chair", "Gaming Chair", "Lounge Chair"),
        ("Ergonomic", "Mesh", "Leather", "Swivel", "Stackable", "Executive"),
        (49.0, 1999.0),
        ("office", "furniture"),
    ),
    "pet-supplies": CategorySpec(
        ("Dog Bed", "Cat Tree", "Leash", "Feeder", "Chew Toy", "Litter Box"),
        ("Orthopedic", "Reflective", "Automatic", "Plush", "Washable", "Indestructible"),
        (2.0, 299.0),
        ("pets", "animals"),
    ),
    "power-tools": CategorySpec(
        ("Drill", "Jigsaw", "Sander", "Impact Driver", "Circular Saw", "Heat Gun"),
        ("Cordless", "Brushless", "18V", "Compact", "Variable-Speed", "Pro"),
        (29.0, 1299.0),
        ("tools", "diy"),
    ),
    "rugs": CategorySpec(
        ("Runner", "Area Rug", "Doormat", "Kilim", "Shag Rug", "Bath Mat"),
        ("Hand-Woven", "Jute", "Wool", "Vintage", "Geometric", "Washable"),
        (9.0, 11999.0),
        ("home", "decor", "textiles"),
    ),
    "face-care": CategorySpec(
        ("Serum", "Moisturiser", "Cleanser", "Face Mask", "Toner", "Sunscreen"),
        ("Hydrating", "Vitamin C", "Retinol", "Gentle", "Oil-Free", "SPF 50"),
        (4.0, 189.0),
        ("beauty", "skin care"),
    ),
    "smart-home": CategorySpec(
        ("Smart Plug", "Thermostat", "Doorbell", "Hub", "Motion Sensor", "Camera"),
        ("Wi-Fi", "Zigbee", "Battery", "Outdoor", "Voice-Controlled", "Mini"),
        (9.0, 499.0),
        ("electronics", "home", "smart home"),
    ),
    "snacks": CategorySpec(
        ("Granola", "Trail Mix", "Crackers", "Chocolate Bar", "Popcorn", "Rice Cakes"),
        ("Salted", "Dark", "Honey", "Spicy", "Gluten-Free", "Crunchy"),
        (0.99, 19.0),
        ("groceries", "food", "snacks"),
    ),
    "eyewear": CategorySpec(
        ("Aviators", "Wayfarers", "Round Sunglasses", "Sport Shades", "Clip-Ons"),
        ("Polarised", "Tortoiseshell", "Mirrored", "Titanium", "Oversized", "Gradient"),
        (9.0, 449.0),
        ("accessories", "sunglasses"),
    ),
    "tea-and-coffee": CategorySpec(
        ("Green Tea", "Espresso Beans", "Chai", "Cold Brew", "Matcha", "Herbal Tea"),
        ("Organic", "Single-Origin", "Loose-Leaf", "Decaf", "Dark Roast", "Smoked"),
        (2.0, 79.0),
        ("groceries", "beverages"),
    ),
    "travel-bags": CategorySpec(
        ("Duffel", "Backpack", "Carry-On", "Weekender", "Toiletry Bag", "Suitcase"),
        ("Waxed Canvas", "Hard-Shell", "Expandable", "Leather", "Ripstop", "Rolling"),
        (14.0, 1199.0),
        ("travel", "bags", "accessories"),
    ),
    "vehicles": CategorySpec(
        ("Scooter", "Go-Kart", "Moped", "Quad Bike", "Golf Cart", "Camper Trailer"),
        ("Electric", "Vintage", "Off-Road", "Two-Seat", "Sport", "Hybrid"),
        (499.0, 24999.99),
        ("vehicles", "outdoor"),
    ),
    "wall-art": CategorySpec(
        ("Poster", "Canvas Print", "Tapestry", "Wall Clock", "Mirror", "Framed Print"),
        ("Abstract", "Botanical", "Vintage", "Monochrome", "Coastal", "Gilded"),
        (5.0, 999.0),
        ("home", "decor", "art"),
    ),
    "womens-clothing": CategorySpec(
        ("Wrap Dress", "Maxi Dress", "Shirt Dress", "Slip Dress", "Sundress", "T-Shirt Dress"),
        ("Floral", "Linen", "Satin", "Pleated", "Polka-Dot", "Tiered"),
        (19.0, 499.0),
        ("clothing", "women", "dresses"),
    ),
    "jewellery": CategorySpec(
        ("Necklace", "Hoop Earrings", "Bracelet", "Ring", "Anklet", "Brooch"),
        ("Gold-Plated", "Sterling", "Pearl", "Beaded", "Minimalist", "Vintage"),
        (4.0, 19999.0),
        ("accessories", "jewellery", "women"),
    ),
}

# Possessive and abbreviated prefixes: the apostrophes and dots that break naive slug and
# URL handling. "Dr." and "St." also put a dot in the middle of a title.
TITLE_PREFIXES = (
    "Chef's",
    "Baker's",
    "Hiker's",
    "Nana's",
    "O'Reilly",
    "Dr.",
    "St. Clair",
    "Maker's",
)
TITLE_SUFFIXES = ("Pro", "Mini", "Mk. II", "No. 5", "Vol. 2", "XL", "Set of 3", "2.0", "Plus")
# Accented words so that a few titles (and so image URLs) are not ASCII.
ACCENTED_WORDS = ("Crème", "Café", "Über", "Señorita", "Smörgås", "Château")

BRANDS = (
    "Hartley & Sons",
    "O'Brien Goods",
    "J.P. Crafts",
    "Northwind",
    "Lumen & Co.",
    "Kestrel",
    "Maison Élise",
    "Bergström",
    "Acme",
    "Tidewater",
    "Fernhill",
    "Quill & Anchor",
    "Zephyr",
    "Osaka Works",
    "Nordlys",
    "Pinecrest",
    "Vantage",
    "Müller & Töchter",
    "Bright Day",
    "Cobalt",
)

DESCRIPTION_OPENERS = (
    "The {title} is built for everyday use.",
    "Meet the {title}: {adj_lower} and easy to live with.",
    "Our {title} brings {adj_lower} style to any space.",
    "A {adj_lower} {noun_lower} that does one thing well.",
    "The {title} — designed in-house, tested for months.",
)
DESCRIPTION_MIDDLES = (
    "Finished by hand — no two are exactly alike.",
    "Inspired by classic café culture and long Sunday mornings.",
    "Über-comfortable and surprisingly light.",
    "Tested for durability in our Zürich workshop.",
    "A crowd favourite ✨ since the first batch sold out.",
    "Perfect for gifting 🎁 or keeping for yourself.",
    "Made with naïve charm and modern know-how.",
    "Eco-friendly materials and a non-stick, easy-to-clean finish.",
    "Long-lasting, water-resistant and built to be repaired.",
    "Works with the rest of the range; mix and match freely.",
    "Ships in recyclable packaging; no plastic, no fuss.",
    "Pairs nicely with a t-shirt and your favourite jeans.",
    "Rated 'excellent' by our own picky testers.",
    "Its 100% cotton cover is machine-washable at 30°C.",
    "Handle with care — it's happier indoors 🌿.",
)
DESCRIPTION_CLOSERS = (
    "Available while stocks last.",
    "Backed by our friendly support team.",
    "Enjoy! 😊",
    "Questions? Ask us anything.",
    "",
)

REVIEW_COMMENTS = (
    "Great value for money!",
    "Would buy again.",
    "Not as described.",
    "Very satisfied!",
    "Arrived late, but works fine.",
    "Exceeded my expectations ✨",
    "Disappointing product.",
    "Très bien, merci !",
    "Highly recommended!",
    "Poor quality.",
    "Sehr gut — schnelle Lieferung.",
    "Would not recommend.",
    "Perfect 👌",
)
FIRST_NAMES = (
    "Ava", "Liam", "Zoë", "Noah", "Seán", "Mia", "Lucas", "Chloé", "Mateo", "Aiyana",
    "Björn", "Priya", "Kenji", "Amara", "Olivia", "José", "Freya", "Idris", "Léa", "Tomás",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "O'Neill", "Müller", "García", "Nakamura", "Okafor", "Dubois", "Kowalski",
    "Andersson", "Haddad", "Nguyen", "D'Amico", "Fischer", "Rossi", "Patel", "Ødegaard",
)  # fmt: skip

WARRANTIES = (
    "1 week warranty",
    "1 month warranty",
    "3 months warranty",
    "6 months warranty",
    "1 year warranty",
    "2 year warranty",
    "5 year warranty",
    "Lifetime warranty",
    "No warranty",
)
SHIPPING = (
    "Ships in 1-2 business days",
    "Ships in 3-5 business days",
    "Ships overnight",
    "Ships in 1 week",
    "Ships in 2 weeks",
    "Ships in 1 month",
)
RETURN_POLICIES = (
    "7 days return policy",
    "30 days return policy",
    "60 days return policy",
    "90 days return policy",
    "No return policy",
)
TITLE_EDITS = ("(2nd Edition)", "v2", "– Refreshed", "Plus", "Limited Edition", "Reissue")
