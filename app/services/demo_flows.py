"""The demo's customer onboarding flow: two customer forms, a document upload, a credit officer's review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Company, Flow
from app.services import flows
from app.services.principal import Principal

ONBOARDING_SLUG = "personal-loan"
# Seed 001's list of Indian states and union territories (values) with their display names.
STATES = (
    ("ANDAMAN AND NICOBAR ISLANDS", "Andaman and Nicobar Islands"), ("ANDHRA PRADESH", "Andhra Pradesh"),
    ("ARUNACHAL PRADESH", "Arunachal Pradesh"), ("ASSAM", "Assam"), ("BIHAR", "Bihar"),
    ("CHANDIGARH", "Chandigarh"), ("CHATTISGARH", "Chattisgarh"),
    ("DADRA AND NAGAR HAVELI AND DAMAN AND DIU", "Dadra and Nagar Haveli and Daman and Diu"),
    ("DELHI", "Delhi"), ("GOA", "Goa"), ("GUJARAT", "Gujarat"), ("HARYANA", "Haryana"),
    ("HIMACHAL PRADESH", "Himachal Pradesh"), ("JAMMU AND KASHMIR", "Jammu and Kashmir"),
    ("JHARKHAND", "Jharkhand"), ("KARNATAKA", "Karnataka"), ("KERALA", "Kerala"), ("LADAKH", "Ladakh"),
    ("LAKSHADWEEP", "Lakshadweep"), ("MADHYA PRADESH", "Madhya Pradesh"), ("MAHARASHTRA", "Maharashtra"),
    ("MANIPUR", "Manipur"), ("MEGHALAYA", "Meghalaya"), ("MIZORAM", "Mizoram"), ("NAGALAND", "Nagaland"),
    ("ODISHA", "Odisha"), ("PUDUCHERRY", "Puducherry"), ("PUNJAB", "Punjab"), ("RAJASTHAN", "Rajasthan"),
    ("SIKKIM", "Sikkim"), ("TAMIL NADU", "Tamil Nadu"), ("TELANGANA", "Telangana"), ("TRIPURA", "Tripura"),
    ("UTTAR PRADESH", "Uttar Pradesh"), ("UTTARAKHAND", "Uttarakhand"), ("WEST BENGAL", "West Bengal"),
)
_CUSTOMER_SUBMITS = [{"roles": ["customer"], "actions": ["submit"]}]


def onboarding_design() -> dict[str, Any]:
    """The design document (docs/designs.md) of the demo onboarding flow."""
    return {
        "name": "Personal loan onboarding",
        "start_node": "start",
        "nodes": [
            {"name": "start", "type": "start", "stage": "Your details", "config": {},
             "edges": [{"type": "goto", "target_node": "about_you"}]},
            {"name": "about_you", "type": "form", "stage": "Your details",
             "config": {"title": "About you", "store_as": "applicant", "schema": {
                 "type": "object",
                 "required": ["full_name", "date_of_birth", "pan", "monthly_income", "employment"],
                 "properties": {
                     "full_name": {"type": "string", "title": "Full name", "minLength": 2,
                                   "maxLength": 120},
                     "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth"},
                     "pan": {"type": "string", "title": "PAN", "pattern": "^[A-Z]{5}[0-9]{4}[A-Z]$",
                             "description": "10 characters, e.g. ABCDE1234F"},
                     "monthly_income": {"type": "number", "title": "Monthly income (INR)",
                                        "minimum": 0},
                     "employment": {"type": "string", "title": "Employment",
                                    "enum": ["salaried", "self_employed"],
                                    "enumNames": ["Salaried", "Self-employed"]},
                 }}},
             "permissions": _CUSTOMER_SUBMITS,
             "edges": [{"action": "submit", "type": "goto", "target_node": "address"}]},
            {"name": "address", "type": "form", "stage": "Address",
             "config": {"title": "Your address", "store_as": "address", "schema": {
                 "type": "object",
                 "required": ["line1", "city", "state", "pincode", "consent"],
                 "properties": {
                     "line1": {"type": "string", "title": "House and street", "minLength": 3},
                     "city": {"type": "string", "title": "City", "minLength": 2},
                     "state": {"type": "string", "title": "State",
                               "enum": [value for value, _ in STATES],
                               "enumNames": [label for _, label in STATES]},
                     "pincode": {"type": "string", "title": "PIN code", "pattern": "^[1-9][0-9]{5}$",
                                 "description": "6 digits"},
                     "consent": {"type": "boolean", "const": True,
                                 "title": "I agree that the lender may check my credit record"},
                 }}},
             "permissions": [{"roles": ["customer"], "actions": ["submit", "back"]}],
             # Back to "About you" keeps nothing typed on this page (ignore_data); that page shows
             # what was sent on it before.
             "edges": [{"action": "submit", "type": "goto", "target_node": "documents"},
                       {"action": "back", "type": "goto", "target_node": "about_you",
                        "ignore_data": True}]},
            {"name": "documents", "type": "document", "stage": "Documents",
             "config": {"title": "Upload your documents", "store_as": "documents", "documents": [
                 {"type": "pan_card", "label": "PAN card", "required": True},
                 {"type": "bank_statement", "label": "Bank statement (last 3 months)",
                  "required": False},
             ]},
             "permissions": _CUSTOMER_SUBMITS,
             "edges": [{"action": "submit", "type": "goto", "target_node": "review"}]},
            {"name": "review", "type": "approval", "stage": "Review",
             "config": {"title": "Personal loan for ${store.applicant.full_name}",
                        "description": "Income ${store.applicant.monthly_income}, ${store.address.city}",
                        "approvers": {"roles": ["credit_officer"]}, "min_approvals": 1,
                        "metadata": {"due_in_hours": 24, "fields": [
                            "applicant.full_name", "applicant.pan", "applicant.monthly_income",
                            "applicant.employment", "address.city", "address.state"]}},
             # Decided in the inbox: people never act at an approval node directly. `reupload` is
             # taken by the documents service when an officer asks for a document again: the
             # customer is sent back to the upload step, then the review starts afresh.
             "edges": [{"action": "approve", "type": "goto", "target_node": "approved"},
                       {"action": "reject", "type": "goto", "target_node": "rejected"},
                       {"action": "reupload", "type": "goto", "target_node": "documents"}]},
            {"name": "approved", "type": "end", "stage": "Decision",
             "config": {"status": "succeeded", "message": "Approved"}},
            {"name": "rejected", "type": "end", "stage": "Decision",
             "config": {"status": "succeeded", "message": "Not approved"}},
        ],
    }


def load_demo_onboarding(company: Company) -> Flow:
    """Create the demo onboarding flow with its current design; running it again changes nothing.

    Customers open it at /onboard/personal-loan.
    """
    existing = db.session.scalar(select(Flow).where(Flow.company_id == company.id,
                                                    Flow.slug == ONBOARDING_SLUG))
    if existing is not None:
        # Opened again where an upgrade (migration 0007) closed it: the demo is for customers.
        return flows.set_customer_onboarding(Principal.system(company.id), existing.id, open_=True)
    actor = Principal.system(company.id)
    flow = flows.create_flow(actor, name="Personal loan", slug=ONBOARDING_SLUG,
                             description="Customer onboarding: details, address, documents, review.",
                             tags=["demo", "onboarding"])
    design = flows.create_design(actor, flow_id=flow.id, document=onboarding_design(),
                                 name="Personal loan onboarding v1")
    flows.mark_current_design(actor, design.id)
    return flows.set_customer_onboarding(actor, flow.id, open_=True)
