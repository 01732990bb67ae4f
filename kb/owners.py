"""In-house owners: departments, their contacts, and categories with their response-time agreements."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb import audit
from kb.audit import AuditAction
from kb.errors import Conflict, NotFound, StaleWrite, ValidationFailed
from kb.models import Category, Contact, Department, User
from kb.storage import use_case


@dataclass(frozen=True)
class DefaultCategory:
    slug: str
    name: str
    department: str
    first_response_minutes: int
    resolution_minutes: int
    routed: bool


DEFAULT_DEPARTMENTS = {
    "customer-service": "Customer service",
    "sales": "Sales",
    "technical-support": "Technical support",
    "spokesperson": "Spokesperson's office",
    "legal": "Legal",
    "security": "Information security and privacy",
}

# The default names in each interface language (the main name above is the English one).
DEFAULT_HEBREW_NAMES = {
    "customer-service": "שירות לקוחות", "sales": "מכירות", "technical-support": "תמיכה טכנית",
    "spokesperson": "דוברות", "legal": "מחלקה משפטית", "security": "אבטחת מידע ופרטיות",
    "billing": "חיובים ותשלומים", "plans": "מסלולים ומחירים", "technical": "אינטרנט וציוד",
    "outages": "תקלות ורשת", "account": "חשבון ושירות", "privacy": "פרטיות ומידע", "general": "כללי",
}


def default_names(slug: str, name: str) -> dict[str, str] | None:
    """Return the Hebrew and English names of a default department or category."""
    return {"he": DEFAULT_HEBREW_NAMES[slug], "en": name} if slug in DEFAULT_HEBREW_NAMES else None

DEFAULT_CATEGORIES = (
    DefaultCategory("billing", "Billing and payments", "customer-service", 30, 24 * 60, True),
    DefaultCategory("plans", "Plans and prices", "sales", 30, 8 * 60, True),
    DefaultCategory("technical", "Internet and equipment", "technical-support", 30, 12 * 60, True),
    DefaultCategory("outages", "Outages and network", "technical-support", 15, 4 * 60, False),
    DefaultCategory("account", "Account and service", "customer-service", 60, 24 * 60, True),
    DefaultCategory("privacy", "Privacy and data", "security", 60, 48 * 60, False),
    DefaultCategory("general", "General", "spokesperson", 60, 48 * 60, False),
)


@use_case
def ensure_defaults(*, session: Session) -> int:
    """Create the default departments and categories that are missing; return how many were added."""
    added = 0
    departments = {d.slug: d for d in session.scalars(select(Department))}
    for slug, name in DEFAULT_DEPARTMENTS.items():
        if slug not in departments:
            departments[slug] = Department(slug=slug, name=name, names=default_names(slug, name))
            session.add(departments[slug])
            added += 1
    existing = set(session.scalars(select(Category.slug)))
    for cat in DEFAULT_CATEGORIES:
        if cat.slug not in existing:
            session.add(
                Category(
                    slug=cat.slug,
                    name=cat.name,
                    names=default_names(cat.slug, cat.name),
                    department=departments[cat.department],
                    first_response_minutes=cat.first_response_minutes,
                    resolution_minutes=cat.resolution_minutes,
                    routed=cat.routed,
                )
            )
            added += 1
    session.commit()
    return added


def list_departments(*, session: Session) -> list[Department]:
    """Return every department with its contacts."""
    return list(session.scalars(select(Department).options(selectinload(Department.contacts)).order_by(Department.id)))


def get_department(*, session: Session, slug: str) -> Department:
    """Return a department by slug or raise NotFound."""
    found = session.scalar(select(Department).where(Department.slug == slug))
    if found is None:
        raise NotFound(f"no department {slug!r}")
    return found


def find_department(*, session: Session, slug: str) -> Department | None:
    """Return a department by slug, or None."""
    return session.scalar(select(Department).where(Department.slug == slug))


def list_categories(*, session: Session) -> list[Category]:
    """Return every category with its department."""
    return list(session.scalars(select(Category).options(selectinload(Category.department)).order_by(Category.id)))


@use_case
def add_contact(
    *, session: Session, department: str, name: str, email: str = "", phone: str = "", on_call: bool = False,
    actor: User | None = None,
) -> Contact:
    """Add an in-house contact to a department."""
    if not name.strip():
        raise ValidationFailed("a contact needs a name")
    dept = get_department(session=session, slug=department)
    if any(c.name == name.strip() for c in dept.contacts):
        raise Conflict(f"{name!r} is already a contact of {department}")
    contact = Contact(department=dept, name=name.strip(), email=email.strip(), phone=phone.strip(), on_call=on_call)
    session.add(contact)
    _changed(session, actor, AuditAction.CONTACT_ADD,
             {"department": department, "name": contact.name, "on_call": on_call})
    return contact


@use_case
def set_on_call(*, session: Session, contact_id: int, on_call: bool, actor: User | None = None) -> Contact:
    """Mark a contact as on call (or not); escalations name on-call contacts first."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    contact.on_call = on_call
    _changed(session, actor, AuditAction.CONTACT_ON_CALL, {"contact": contact.name, "on_call": on_call})
    return contact


@use_case
def remove_contact(*, session: Session, contact_id: int, actor: User | None = None) -> None:
    """Remove a contact from its department."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    name = contact.name
    session.delete(contact)
    _changed(session, actor, AuditAction.CONTACT_REMOVE, {"contact": name})


@use_case
def update_category(
    *, session: Session, slug: str, first_response_minutes: int, resolution_minutes: int, department: str | None,
    routed: bool, row_version: int, actor: User | None = None,
) -> Category:
    """Change a category's owner and response-time agreement; a stale form is refused."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound(f"no category {slug!r}")
    if category.row_version != row_version:
        raise StaleWrite("someone else changed this category first; reload to see their change")
    if not (1 <= first_response_minutes <= 7 * 24 * 60 and 1 <= resolution_minutes <= 60 * 24 * 60):
        raise ValidationFailed("response times must be between one minute and a few weeks")
    before = {"first": category.first_response_minutes, "resolution": category.resolution_minutes,
              "department": category.department.slug if category.department else None, "routed": category.routed}
    category.first_response_minutes = first_response_minutes
    category.resolution_minutes = resolution_minutes
    category.department = get_department(session=session, slug=department) if department else None
    category.routed = routed
    _changed(session, actor, AuditAction.CATEGORY_UPDATE, {"category": slug, "before": before,
                                                  "first": first_response_minutes, "resolution": resolution_minutes,
                                                  "department": department, "routed": routed})
    return category


def _changed(session: Session, actor: User | None, action: AuditAction, after: dict) -> None:
    audit.record(session, actor=actor, action=action, after=after)
    session.commit()


def contacts_for(department: Department | None) -> list[dict[str, str | bool]]:
    """Return a department's contacts, on-call first, as plain data."""
    if department is None:
        return []
    ordered = sorted(department.contacts, key=lambda c: (not c.on_call, c.id))
    return [{"name": c.name, "email": c.email, "phone": c.phone, "on_call": c.on_call} for c in ordered]
