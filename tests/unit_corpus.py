"""A small knowledge base in memory for the unit tests: guidance, a clause, two vendor contracts,
three audit notes (one restricted) whose finding statuses change over time."""

from __future__ import annotations

from assistant.core.types import Document
from ingest.frontmatter import split_front_matter, validate

DOCS = {
    "guidance/security.md": """---
title: Security expectations for vendors
doc_type: guidance
audience: all
date: 2025-01-10
tags: [security, encryption]
---
# Security expectations for vendors

## Encryption

Vendors must encrypt customer data at rest with AES-256. Data in transit must use TLS 1.2 or higher.
Encryption keys are rotated every 12 months.

## Breach notification

A vendor must notify us of a security incident within 24 hours of becoming aware of it.
""",
    "contracts/clauses.md": """---
title: Model clauses for subcontracting and audits
doc_type: contract
audience: all
date: 2024-05-01
tags: [clause-library, audit]
---
# Model clauses for subcontracting and audits

## Subcontracting

2.1 The Supplier shall not subcontract any part of the services without prior written approval.

## Audit

5.1 Kestrel may audit the Supplier once a year on 30 days' notice.

## Encryption of customer data

3.1 Customer data at rest must be encrypted with AES-256.

3.2 Customer data in transit must be encrypted with TLS 1.2 or higher.

3.3 The Supplier shall disable SSL and TLS 1.0 on every endpoint.
""",
    "contracts/northwind.md": """---
title: Payroll agreement with Northwind
doc_type: contract
audience: all
date: 2023-02-01
vendor: Northwind
tags: [payroll]
---
# Payroll agreement with Northwind

## Incident notification

7.1 Northwind shall notify Kestrel of any security incident within 48 hours.
""",
    "contracts/bluepeak.md": """---
title: Contact centre agreement with Bluepeak
doc_type: contract
audience: managers
date: 2023-06-15
vendor: Bluepeak
tags: [contact-centre]
---
# Contact centre agreement with Bluepeak

## Working hours

9.1 Bluepeak agents shall not work more than 60 hours a week including overtime.
""",
    "audits/northwind-2024.md": """---
title: Northwind audit 2024
doc_type: audit
audience: all
date: 2024-10-08
vendor: Northwind
tags: [audit]
findings:
  - {id: ZZ-1, area: access, severity: high, status: open, owner: IT, due_date: 2025-06-30}
  - {id: ZZ-2, area: incidents, severity: critical, status: open, owner: Compliance, due_date: 2025-03-31}
---
# Northwind audit 2024

## Finding ZZ-1: Leavers kept access

Finding ZZ-1. Fourteen leavers kept access to payroll systems for more than a day after leaving.

## Finding ZZ-2: Late breach notice

Finding ZZ-2. A misdirected payroll file was notified after 96 hours instead of 48 hours.
""",
    "audits/northwind-2025.md": """---
title: Northwind follow-up 2025
doc_type: audit
audience: auditors
date: 2025-09-01
vendor: Northwind
tags: [audit, follow-up]
findings:
  - {id: ZZ-1, area: access, severity: high, status: closed, owner: IT, due_date: 2025-06-30}
  - {id: ZZ-2, area: incidents, severity: critical, status: open, owner: Compliance, due_date: 2026-01-31}
---
# Northwind follow-up 2025

## Finding ZZ-1: Leavers kept access

Finding ZZ-1 is closed: an automated leaver feed now removes access the same day.

## Finding ZZ-2: Late breach notice

Finding ZZ-2 stays open with a new due date of 2026-01-31.
""",
}


def documents() -> list[Document]:
    out = []
    for source, raw in DOCS.items():
        meta, body, lines = split_front_matter(raw)
        meta = validate(meta)
        meta["_line_offset"] = lines
        out.append(Document(source, body, meta["title"], meta["doc_type"], meta))
    return out
