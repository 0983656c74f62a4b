#!/usr/bin/env python3
"""Generates the labelled PII corpus (corpus/corpus.jsonl) and the name gazetteers.

The master name lists in corpus/ are split deterministically: 80% go to data/privacy (what the
detector ships with), 20% are held out and appear only in the corpus, so the score measures how
names the gazetteer has never seen are found from context. Offsets are UTF-8 byte offsets.
Run: python3 tests/privacy/make_corpus.py  (stdlib only, fixed seed, byte-identical output).
"""
import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEED = 20261124
N_DOCS = 600


def read_names(path):
    with open(path, encoding="utf-8") as f:
        return sorted({w for w in f.read().split() if w})


def held_out(name):
    return int(hashlib.sha1(name.lower().encode()).hexdigest(), 16) % 5 == 0


def write_gazetteer(names, path, header):
    kept = [n for n in names if not held_out(n)]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(header)
        f.write("\n".join(kept) + "\n")
    return kept


FIRST = read_names(os.path.join(HERE, "corpus", "first_names_master.txt"))
SUR = read_names(os.path.join(HERE, "corpus", "surnames_master.txt"))

CLIENTS = [("Acme", "Corp"), ("Globex", "GmbH"), ("Initech", "Inc"), ("Umbrella Health", "Ltd"),
           ("Northwind Traders", "LLC"), ("Vandelay Industries", "SA"), ("Stark Logistics", "AG"),
           ("Bluebird Analytics", "Inc."), ("Helios Partners", "plc"), ("Orchid Biotech", "BV"),
           ("Kestrel Mining", "Ltd"), ("Pinnacle Retail", "Corp.")]
COMPANIES_DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.co.uk",
                     "firm.example.de", "group.example.fr"]
STREETS = ["Baker Street", "Elm Street", "Maple Avenue", "Oak Road", "Sunset Boulevard",
           "Park Lane", "Riverside Drive", "High Street", "Queen's Road", "Cedar Court",
           "Harbour Way", "Church Lane", "King Street", "Mill Road", "Station Road"]
GERMAN_STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Marktplatz",
                  "Schillerstr.", "Goethestraße"]
FRENCH_STREETS = ["rue de la Paix", "avenue des Champs", "boulevard Haussmann", "rue Victor Hugo",
                  "place de la République"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
IBAN_LEN = {"DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "IT": 27, "CH": 21, "BE": 16,
            "AT": 20, "PL": 28}
ORDINARY_CAPS = ["Quarterly Budget Review", "Marketing", "Operations", "Project Phoenix",
                 "Sales Kickoff", "Annual Report", "Customer Success", "Roadmap", "Finance",
                 "Steering Committee", "Product Launch", "Legal", "Security Audit", "North Region",
                 "Board Meeting", "Compliance", "Release Candidate", "Growth Plan"]


class Doc:
    def __init__(self, kind):
        self.kind = kind
        self.parts = []
        self.size = 0
        self.spans = []
        self.negatives = []

    def add(self, s):
        self.parts.append(s)
        self.size += len(s.encode("utf-8"))

    def ent(self, s, typ):
        start = self.size
        self.add(s)
        self.spans.append({"start": start, "end": self.size, "type": typ})

    def neg(self, s, kind):
        start = self.size
        self.add(s)
        self.negatives.append({"start": start, "end": self.size, "kind": kind})

    def text(self):
        return "".join(self.parts)


def luhn_complete(prefix, length, rng):
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        d = digits + check
        s = 0
        for i, c in enumerate(reversed(d)):
            v = int(c)
            if i % 2 == 1:
                v = v * 2 - 9 if v * 2 > 9 else v * 2
            s += v
        if s % 10 == 0:
            return d
    raise AssertionError


def card(rng):
    kind = rng.randrange(7)
    if kind == 0:
        d = luhn_complete("4", 16, rng)
    elif kind == 1:
        d = luhn_complete(str(rng.randint(51, 55)), 16, rng)
    elif kind == 2:
        d = luhn_complete(str(rng.randint(2221, 2720)), 16, rng)
    elif kind == 3:
        d = luhn_complete(rng.choice(["34", "37"]), 15, rng)
        return d if rng.random() < 0.4 else f"{d[:4]} {d[4:10]} {d[10:]}"
    elif kind == 4:
        d = luhn_complete("6011", 16, rng)
    elif kind == 5:
        d = luhn_complete("4", 19, rng)
    else:
        d = luhn_complete(str(rng.randint(3528, 3589)), 16, rng)
    sep = rng.choice([" ", "-", ""])
    return sep.join(d[i:i + 4] for i in range(0, len(d), 4))


def bad_card(rng):
    d = luhn_complete("4", 16, rng)
    d = d[:-1] + str((int(d[-1]) + rng.randint(1, 9)) % 10)
    return " ".join(d[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else d


def iban(rng):
    cc = rng.choice(sorted(IBAN_LEN))
    bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LEN[cc] - 4))
    if cc == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + bban[4:]
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    check = 98 - int(num) % 97
    s = f"{cc}{check:02d}{bban}"
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4)) if rng.random() < 0.6 else s


def ssn(rng):
    while True:
        a, g, s = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        if a != 666:
            return f"{a:03d}-{g:02d}-{s:04d}"


def phone(rng):
    k = rng.randrange(9)
    r = lambda n: "".join(rng.choice("0123456789") for _ in range(n))
    if k == 0:
        return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{r(4)}"
    if k == 1:
        return f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{r(4)}"
    if k == 2:
        return f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {r(4)}"
    if k == 3:
        return f"+44 20 {rng.randint(3000, 8999)} {r(4)}"
    if k == 4:
        return f"+44 (0)7{r(3)} {r(6)}"
    if k == 5:
        return f"+49 30 {rng.randint(1000000, 99999999)}"
    if k == 6:
        return f"+33 {rng.randint(1, 7)} {r(2)} {r(2)} {r(2)} {r(2)}"
    if k == 7:
        return f"020 {rng.randint(3000, 8999)} {r(4)}"
    return f"0{rng.randint(1, 7)} {r(2)} {r(2)} {r(2)} {r(2)}"


def ip(rng):
    if rng.random() < 0.7:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    groups = [f"{rng.randint(0, 65535):x}" for _ in range(rng.randint(2, 4))]
    return "2001:db8:" + ":".join(groups[:-1]) + "::" + groups[-1]


def address(rng):
    k = rng.randrange(5)
    if k < 3:
        return f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
    if k == 3:
        return f"{rng.choice(GERMAN_STREETS)} {rng.randint(1, 120)}"
    return f"{rng.randint(1, 150)} {rng.choice(FRENCH_STREETS)}"


def dob(rng):
    y, m, d = rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {d}, {y}",
                       f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}"])


class Cast:
    """The people and client of one document, so that they recur as in real text."""

    def __init__(self, rng):
        self.rng = rng
        self.people = [(rng.choice(FIRST), rng.choice(SUR)) for _ in range(rng.randint(2, 4))]
        self.client = rng.choice(CLIENTS)

    def person(self, doc, full=None):
        f, s = self.rng.choice(self.people)
        full = self.rng.random() < 0.6 if full is None else full
        doc.ent(f"{f} {s}" if full else f, "PERSON")

    def first(self, doc, i=None):
        f, _ = self.people[i] if i is not None else self.rng.choice(self.people)
        doc.ent(f, "PERSON")

    def client_mention(self, doc):
        core, suffix = self.client
        r = self.rng.random()
        s = f"{core} {suffix}" if r < 0.35 else core if r < 0.7 else core.upper() if r < 0.8 \
            else core.lower() if r < 0.9 else f"{core}, {suffix}"
        doc.ent(s, "CLIENT")

    def email(self, doc, i=None):
        f, s = self.people[i] if i is not None else self.rng.choice(self.people)
        local = self.rng.choice([f"{f}.{s}", f"{f[0]}{s}", f"{f}"]).lower()
        doc.ent(f"{local}@{self.rng.choice(COMPANIES_DOMAINS)}", "EMAIL")


def sentence(doc, cast, rng):
    """One sentence of business prose with zero or more entities and hard negatives."""
    k = rng.randrange(30)
    P = lambda: cast.person(doc)
    if k == 0:
        doc.add("I spoke with "); P(); doc.add(" yesterday about the renewal.")
    elif k == 1:
        P(); doc.add(" will send the updated deck before the "); doc.neg(rng.choice(ORDINARY_CAPS), "caps"); doc.add(".")
    elif k == 2:
        doc.add("Please loop in "); P(); doc.add(" and keep "); cast.client_mention(doc); doc.add(" informed.")
    elif k == 3:
        doc.add("You can reach me on "); doc.ent(phone(rng), "PHONE"); doc.add(" or by e-mail at "); cast.email(doc); doc.add(".")
    elif k == 4:
        doc.add("The card on file is "); doc.ent(card(rng), "CREDIT_CARD"); doc.add(", expiring next year.")
    elif k == 5:
        doc.add("Wire the deposit to IBAN "); doc.ent(iban(rng), "IBAN"); doc.add(" by Friday.")
    elif k == 6:
        doc.add("Her SSN is "); doc.ent(ssn(rng), "SSN"); doc.add(" according to the onboarding form.")
    elif k == 7:
        doc.add("The login came from "); doc.ent(ip(rng), "IP"); doc.add(" at "); doc.neg(f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} {rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}", "timestamp"); doc.add(".")
    elif k == 8:
        doc.add("The dashboard lives at "); doc.ent(rng.choice(["https://portal.example.com/accounts/", "https://crm.example.org/deal?id=", "www.example.net/client/"]) + str(rng.randint(100, 99999)), "URL"); doc.add(" for now.")
    elif k == 9:
        doc.add("Ship the samples to "); doc.ent(address(rng), "ADDRESS"); doc.add(rng.choice([", Springfield.", " before noon.", ", 2nd floor."]))
    elif k == 10:
        doc.add(rng.choice(["The patient was born on ", "Date of birth: ", "DOB ", "She was born "])); doc.ent(dob(rng), "DATE_OF_BIRTH"); doc.add(".")
    elif k == 11:
        doc.add("We upgraded to "); doc.neg(rng.choice(["v2.4.1", "version 10.2.0.1", "release 3.11.2", "v1.0.12"]), "version"); doc.add(" last week.")
    elif k == 12:
        doc.add("Order "); doc.neg(rng.choice([f"#{rng.randint(10000000, 99999999)}", f"PO-2024-{rng.randint(10, 12)}-{rng.randint(1000, 9999)}"]), "order"); doc.add(" shipped with part "); doc.neg(f"A-{rng.randint(1000, 9999)}-{rng.choice('BCDX')}", "part"); doc.add(".")
    elif k == 13:
        doc.add("The reference book is "); doc.neg(rng.choice(["ISBN 978-3-16-148410-0", "ISBN 978-0-306-40615-7", "ISBN 0-306-40615-2"]), "isbn"); doc.add(".")
    elif k == 14:
        doc.add("The old account number "); doc.neg(bad_card(rng), "bad_luhn"); doc.add(" was closed.")
    elif k == 15:
        doc.add("The licence costs "); doc.neg(rng.choice([f"${rng.randint(1, 9)},{rng.randint(100, 999)}.00", f"€{rng.randint(10, 999)}.{rng.randint(10, 99)}", f"USD {rng.randint(1000, 99999)}"]), "price"); doc.add(" per seat, renewing in "); doc.neg(str(rng.randint(2019, 2031)), "year"); doc.add(".")
    elif k == 16:
        cast.client_mention(doc); doc.add(" asked for a revised quote; "); P(); doc.add(" owns the follow-up.")
    elif k == 17:
        doc.add("According to "); P(); doc.add("'s notes, the "); doc.neg(rng.choice(ORDINARY_CAPS), "caps"); doc.add(" slipped by two weeks.")
    elif k == 18:
        doc.add("Mr. " if rng.random() < 0.5 else "Dr. "); doc.ent(rng.choice(SUR), "PERSON"); doc.add(" approved the budget for "); cast.client_mention(doc); doc.add(".")
    elif k == 19:
        doc.add("Meeting moved to "); doc.neg(f"{rng.randint(10, 17)}:{rng.choice(['00', '30', '15'])}", "timestamp"); doc.add(" on "); doc.neg(rng.choice(["Monday", "Tuesday", "Thursday"]), "caps"); doc.add(".")
    elif k == 20:
        doc.add("Can you ask "); cast.first(doc); doc.add(" whether the contract with "); cast.client_mention(doc); doc.add(" is signed?")
    elif k == 21:
        doc.add("Action item for "); P(); doc.add(": call "); doc.ent(phone(rng), "PHONE"); doc.add(" and confirm.")
    elif k == 22:
        doc.add("The "); doc.neg(rng.choice(ORDINARY_CAPS), "caps"); doc.add(" deck is on the shared drive.")
    elif k == 23:
        doc.add("Tracking number "); doc.neg(str(rng.randint(10 ** 11, 10 ** 12 - 1)), "order"); doc.add(" shows delivery tomorrow.")
    elif k == 24:
        doc.add("Let's sync with "); P(); doc.add(" and "); P(); doc.add(" next week.")
    elif k == 25:
        doc.add("Build "); doc.neg(f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}", "version"); doc.add(" fixed the crash that "); P(); doc.add(" reported.")
    elif k == 26:
        doc.add("We budgeted "); doc.neg(f"{rng.randint(2, 95)}%", "price"); doc.add(" more for "); doc.neg(str(rng.randint(2024, 2030)), "year"); doc.add(" after talking to "); cast.client_mention(doc); doc.add(".")
    elif k == 27:
        doc.add("Forwarding this from "); cast.email(doc); doc.add(".")
    elif k == 28:
        doc.add("Our office moved to "); doc.ent(address(rng), "ADDRESS"); doc.add(".")
    else:
        doc.add("Thanks to "); P(); doc.add(" for the quick turnaround.")
    doc.add(" " if rng.random() < 0.7 else "\n")


def make_doc(i, rng):
    cast = Cast(rng)
    kind = ["email", "meeting_notes", "client_brief", "ticket", "chat"][i % 5]
    doc = Doc(kind)
    if kind == "email":
        doc.add("From: "); cast.person(doc, full=True); doc.add(" <"); cast.email(doc, 0); doc.add(">\n")
        doc.add("Subject: "); doc.neg(rng.choice(ORDINARY_CAPS), "caps"); doc.add("\n\n")
        doc.add(rng.choice(["Dear ", "Hi ", "Hello "])); cast.first(doc, 1 % len(cast.people)); doc.add(",\n\n")
    elif kind == "meeting_notes":
        doc.add("Meeting notes, "); doc.neg(rng.choice(ORDINARY_CAPS), "caps"); doc.add("\nAttendees: ")
        for j, (f, s) in enumerate(cast.people):
            if j:
                doc.add(", ")
            doc.ent(f"{f} {s}", "PERSON")
        doc.add("\n\n")
    elif kind == "client_brief":
        doc.add("Client brief: "); cast.client_mention(doc); doc.add("\nAccount manager: "); cast.person(doc, full=True); doc.add("\n\n")
    elif kind == "ticket":
        doc.add(f"Ticket #{rng.randint(1000, 99999)}\nReporter: "); cast.person(doc, full=True); doc.add("\nPriority: high\n\n")
    else:
        doc.add(f"[{rng.randint(8, 18)}:{rng.randint(10, 59)}] "); cast.first(doc, 0); doc.add(": ")
    for _ in range(rng.randint(3, 8)):
        sentence(doc, cast, rng)
    if kind == "email":
        doc.add("\n\n" + rng.choice(["Best regards,", "Thanks,", "Cheers,", "Kind regards,"]) + "\n")
        f, s = cast.people[0]
        doc.ent(f"{f} {s}", "PERSON"); doc.add("\n")
    return {"id": i, "kind": kind, "text": doc.text(), "spans": doc.spans,
            "entities": [f"{cast.client[0]} {cast.client[1]}"], "hard_negatives": doc.negatives}


def main():
    write_gazetteer(FIRST, os.path.join(ROOT, "data", "privacy", "first_names.txt"),
                    "# First names across cultures, written for chorus (public-domain knowledge).\n"
                    "# Generated by tests/privacy/make_corpus.py: 20% of the master list is held out\n")
    write_gazetteer(SUR, os.path.join(ROOT, "data", "privacy", "surnames.txt"),
                    "# Common surnames, written for chorus. Generated by tests/privacy/make_corpus.py\n")
    rng = random.Random(SEED)
    with open(os.path.join(HERE, "corpus", "corpus.jsonl"), "w", encoding="utf-8") as f:
        for i in range(N_DOCS):
            f.write(json.dumps(make_doc(i, rng), ensure_ascii=False) + "\n")
    held = sum(held_out(n) for n in FIRST)
    print(f"{N_DOCS} documents; first names held out {held}/{len(FIRST)}")


if __name__ == "__main__":
    main()
