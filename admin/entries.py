"""The PR console: entries, editor, review queue, unanswered questions, audit log, API keys."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms.fields.choices import SelectChoice

from admin.blueprint import bp
from admin.forms import CHANNEL_LABELS, ActionForm, ApiKeyForm, EntryForm, RevokeForm
from kb import accounts, history, listing, owners, phrasings, storage
from kb import service as kb_service
from kb.errors import KbError, StaleWrite
from kb.models import EntryVersion
from kb.service import Draft
from kb.workflow import Action, Role, Status, can
from suggest.insights import analytics
from web.auth import current_user, role_required, signed_in_user
from web.i18n import current_language, gettext, translate
from web.labels import N_, label

PAGE_SIZE = 25
AUDIT_PAGE = 50
RELOAD = N_("This version changed since you opened it, or the page did not say which version you saw; "
            "reload and try again.")


def _choices(form: EntryForm) -> None:
    s = storage.session()
    form.category.choices = [SelectChoice("", "-")] + [
        SelectChoice(c.slug, c.name) for c in owners.list_categories(session=s)]
    form.department.choices = [SelectChoice("", N_("from category"))] + [
        SelectChoice(d.slug, d.name) for d in owners.list_departments(session=s)]


def _draft_from(form: EntryForm) -> Draft:
    return Draft(
        question=form.question.data or "", answer=form.answer.data or "", lang=form.lang.data,
        alternates=form.alternate_list(), variants=form.variants(), placeholders=form.placeholder_list(),
        review_by=form.review_by.data, category=form.category.data or None,
        department=form.department.data or None, tags=form.tag_list(),
    )


def _fill(form: EntryForm, version: EntryVersion) -> None:
    entry = version.entry
    form.question.data = version.question
    form.alternates.data = "\n".join(version.alternates or [])
    form.answer.data = version.answer
    for channel in ("x", "facebook", "instagram", "email"):
        getattr(form, f"variant_{channel}").data = (version.variants or {}).get(channel, "")
    form.placeholders.data = ", ".join(version.placeholders or [])
    form.lang.data = entry.lang
    form.category.data = entry.category.slug if entry.category else ""
    form.department.data = entry.department.slug if entry.department else ""
    form.review_by.data = version.review_by
    form.tags.data = ", ".join(entry.tags or [])
    form.base_version_id.data = str(version.id)
    form.base_row_version.data = str(version.row_version)


@bp.route("/")
@role_required(Role.EDITOR)
def index() -> Any:
    """Send PR to the entries list."""
    return redirect(url_for("admin.entries"))


@bp.route("/entries")
@role_required(Role.EDITOR)
def entries() -> Any:
    """List entries with search, filters, sort, pages and counts per status."""
    s = storage.session()
    args = request.args
    filters = listing.EntryFilter(
        status=args.get("status") or None, lang=args.get("lang") or None, category=args.get("category") or None,
        department=args.get("department") or None, overdue=args.get("overdue") == "1",
        missing_variant=args.get("missing") or None, search=(args.get("q") or "").strip() or None,
        sort=args.get("sort") or "id",
    )
    page = max(1, args.get("page", 1, type=int) or 1)
    rows, total = listing.list_entries(session=s, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "admin/entries.html", rows=rows, total=total, page=page, has_next=page * PAGE_SIZE < total, f=filters,
        query=query, counts=listing.status_counts(session=s), statuses=[x.value for x in Status],
        categories=owners.list_categories(session=s), departments=owners.list_departments(session=s),
        channels=[c for c in CHANNEL_LABELS if c != "web"], labels=CHANNEL_LABELS, sorts=listing.SORTS,
        today=date.today(),
    )


@bp.route("/entries/new", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def new_entry() -> Any:
    """Draft a new entry."""
    form = EntryForm()
    _choices(form)
    if request.method == "GET":
        form.lang.data = request.args.get("lang", "he")
        form.question.data = request.args.get("question", "")
    if form.validate_on_submit():
        try:
            version = kb_service.create_draft(session=storage.session(), actor=signed_in_user(),
                                              draft=_draft_from(form))
        except KbError as exc:
            form.form_errors.append(exc.message)
        else:
            flash(gettext("Draft saved. Submit it for review when it is ready."), "ok")
            return redirect(url_for("admin.entry", entry_id=version.entry_id))
    return render_template("admin/edit.html", form=form, entry=None, conflict=None, labels=CHANNEL_LABELS), \
        422 if form.errors or form.form_errors else 200


@bp.route("/entries/<int:entry_id>")
@role_required(Role.EDITOR)
def entry(entry_id: int) -> Any:
    """Show an entry: approved version, work in progress, actions, history."""
    s = storage.session()
    item = kb_service.get_entry(session=s, entry_id=entry_id)
    working = kb_service.open_version(session=s, entry_id=entry_id)
    approved = item.approved_version
    user = signed_in_user()
    diff = history.diff(session=s, version_a=approved.id, version_b=working.id) if approved and working else {}
    allowed = {}
    if working is not None:
        for action in (Action.SUBMIT, Action.WITHDRAW, Action.APPROVE, Action.REJECT):
            allowed[action.value] = can(action, status=Status(working.status), role=Role(user.role),
                                        is_author=kb_service.contributed(working, user),
                                        allow_self_approval=current_app.config["ALLOW_SELF_APPROVAL"])
    allowed["retire"] = approved is not None and Role(user.role).at_least(Role.APPROVER)
    return render_template("admin/entry.html", entry=item, approved=approved, working=working, diff=diff,
                           allowed=allowed, history=history.trail(session=s, entry_id=entry_id),
                           edited=analytics.edited_sends(session=s, entry_id=entry_id),
                           learned=phrasings.of_entry(session=s, entry_id=entry_id),
                           form=ActionForm(), labels=CHANNEL_LABELS)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def edit_entry(entry_id: int) -> Any:
    """Edit an entry; editing an approved one starts a new draft, and a stale save loses nothing."""
    s = storage.session()
    item = kb_service.get_entry(session=s, entry_id=entry_id)
    base = kb_service.open_version(session=s, entry_id=entry_id) or item.approved_version
    if base is None or base.status == Status.IN_REVIEW.value:
        flash(gettext("This entry is in review: withdraw it before editing, or wait for the decision."), "error")
        return redirect(url_for("admin.entry", entry_id=entry_id))
    form = EntryForm()
    _choices(form)
    conflict = None
    if request.method == "GET":
        _fill(form, base)
    elif form.validate_on_submit():
        try:
            version = kb_service.edit(
                session=s, actor=signed_in_user(), entry_id=entry_id,
                base_version_id=int(form.base_version_id.data or 0),
                base_row_version=int(form.base_row_version.data or 0), draft=_draft_from(form),
            )
        except StaleWrite as exc:
            latest = kb_service.open_version(session=s, entry_id=entry_id) or item.approved_version
            conflict = {"message": exc.message, "theirs": latest}
            if latest is not None:
                # The next save builds on what is there now; the editor's text stays in the form.
                form.base_version_id.data = str(latest.id)
                form.base_row_version.data = str(latest.row_version)
        except (KbError, ValueError) as exc:
            form.form_errors.append(getattr(exc, "message", str(exc)))
        else:
            flash(gettext("Saved as draft version {n}.", n=version.number), "ok")
            return redirect(url_for("admin.entry", entry_id=entry_id))
    status = 409 if conflict else (422 if form.errors or form.form_errors else 200)
    return render_template("admin/edit.html", form=form, entry=item, conflict=conflict, labels=CHANNEL_LABELS), status


@bp.route("/versions/<int:version_id>/<action>", methods=["POST"])
@role_required(Role.EDITOR)
def move(version_id: int, action: str) -> Any:
    """Submit, withdraw, approve or reject a version."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    s = storage.session()
    version = kb_service.get_version(session=s, version_id=version_id)
    row_version = int(form.row_version.data) if form.row_version.data else None
    actor = signed_in_user()
    try:
        if action == "submit":
            kb_service.submit(session=s, actor=actor, version_id=version_id, row_version=row_version)
        elif action == "withdraw":
            kb_service.withdraw(session=s, actor=actor, version_id=version_id, row_version=row_version)
        elif action == "approve":
            if row_version is None:
                # Approving whatever the text is now, unseen, is what the version stamp exists to prevent.
                raise StaleWrite(translate(RELOAD, current_language()))
            kb_service.approve(session=s, actor=actor, version_id=version_id, row_version=row_version,
                               allow_self_approval=current_app.config["ALLOW_SELF_APPROVAL"])
        elif action == "reject":
            kb_service.reject(session=s, actor=actor, version_id=version_id, row_version=row_version,
                              comment=form.comment.data or "")
        else:
            abort(404)
    except KbError as exc:
        flash(gettext(exc.message), "error")
    else:
        flash(gettext("Version {n} {action}.", n=version.number, action=gettext(label("audit", action))), "ok")
    target = request.form.get("next")
    if target == "review":
        return redirect(url_for("admin.review"))
    return redirect(url_for("admin.entry", entry_id=version.entry_id))


@bp.route("/entries/<int:entry_id>/retire", methods=["POST"])
@role_required(Role.APPROVER)
def retire(entry_id: int) -> Any:
    """Retire an entry's approved version, with a reason."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    s = storage.session()
    try:
        kb_service.retire(session=s, actor=signed_in_user(), entry_id=entry_id, reason=form.comment.data or "")
    except KbError as exc:
        flash(gettext(exc.message), "error")
    else:
        flash(gettext("Retired: it is no longer suggested."), "ok")
    return redirect(url_for("admin.entry", entry_id=entry_id))


@bp.route("/review")
@role_required(Role.APPROVER)
def review() -> Any:
    """Show versions waiting for review, each with its diff against the approved version."""
    s = storage.session()
    items = []
    for version in listing.in_review(session=s):
        approved = version.entry.approved_version
        diff = history.diff(session=s, version_a=approved.id, version_b=version.id) if approved else {}
        items.append({"version": version, "approved": approved, "diff": diff})
    return render_template("admin/review.html", items=items, form=ActionForm(), me=current_user(),
                           allow_self=current_app.config["ALLOW_SELF_APPROVAL"], labels=CHANNEL_LABELS)


@bp.route("/review/bulk-approve", methods=["POST"])
@role_required(Role.APPROVER)
def bulk_approve() -> Any:
    """Approve several versions at once, after an explicit confirmation; each is its own audited approval."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(i) for i in request.form.getlist("version_id") if i.isdigit()]
    seen = {i: request.form.get(f"row_version-{i}", "") for i in ids}
    if not ids:
        flash(gettext("Select the versions to approve."), "error")
        return redirect(url_for("admin.review"))
    if request.form.get("confirm") != "yes":
        flash(gettext("Tick the confirmation to approve {n} version(s) at once.", n=len(ids)), "error")
        return redirect(url_for("admin.review"))
    s = storage.session()
    done, refused = 0, []
    for version_id in ids:
        try:
            # Each row is approved only as the approver saw it: a version rewritten since the queue was
            # opened (withdrawn, changed, resubmitted) is refused, never approved unseen.
            if not seen[version_id].isdigit():
                raise StaleWrite(translate(RELOAD, current_language()))
            kb_service.approve(session=s, actor=signed_in_user(), version_id=version_id,
                               row_version=int(seen[version_id]),
                               allow_self_approval=current_app.config["ALLOW_SELF_APPROVAL"])
            done += 1
        except KbError as exc:
            refused.append(gettext("Version #{id} not approved: {reason}", id=version_id, reason=gettext(exc.message)))
    flash(gettext("Approved {n} version(s).", n=done), "ok")
    for message in refused:
        flash(message, "error")
    return redirect(url_for("admin.review"))


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit() -> Any:
    """Search the audit log."""
    q = (request.args.get("q") or "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events = listing.audit_log(session=storage.session(), search=q or None, limit=AUDIT_PAGE + 1,
                               offset=(page - 1) * AUDIT_PAGE)
    return render_template("admin/audit.html", events=events[:AUDIT_PAGE], q=q, page=page,
                           has_next=len(events) > AUDIT_PAGE)


@bp.route("/keys", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def keys() -> Any:
    """Create and revoke API keys; a new key is shown once."""
    s = storage.session()
    form = ApiKeyForm(prefix="new")
    form.username.choices = [SelectChoice(u.username, f"{u.username} ({gettext(label('role', u.role))})")
                             for u in accounts.list_users(session=s)]
    revoke_form = RevokeForm(prefix="revoke")
    created = None
    if request.method == "POST" and "new-username" in request.form and form.validate_on_submit():
        try:
            user = accounts.get_by_username(session=s, username=form.username.data)
            key, created = accounts.create_api_key(session=s, user=user, scopes=form.scopes.data,
                                                   name=form.name.data or "", actor=current_user())
        except KbError as exc:
            form.form_errors.append(exc.message)
    elif request.method == "POST" and revoke_form.validate_on_submit():
        accounts.revoke_api_key(session=s, key_id=revoke_form.key_id.data, actor=current_user())
        flash(gettext("API key {id} revoked.", id=revoke_form.key_id.data), "ok")
        return redirect(url_for("admin.keys"))
    return render_template("admin/keys.html", form=form, revoke_form=revoke_form, created=created,
                           keys=accounts.list_api_keys(session=s))

