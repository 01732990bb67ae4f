"""Admin pages: departments and contacts, categories and their response times, users and roles."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from admin.blueprint import bp
from kb import accounts, owners, storage
from kb.errors import KbError
from kb.workflow import Role
from web.auth import current_user, role_required, signed_in_user
from web.i18n import gettext, named


class ContactForm(FlaskForm):
    department = SelectField("Department", choices=[], validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = StringField("Email", validators=[
        Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="not an e-mail address"), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=64)])
    on_call = BooleanField("On call")


class CategoryForm(FlaskForm):
    slug = StringField(validators=[DataRequired()])
    row_version = IntegerField(validators=[DataRequired()])
    department = SelectField("Department", choices=[], validators=[Optional()])
    first_response_minutes = IntegerField("Agency first response (minutes)",
                                          validators=[DataRequired(), NumberRange(1, 7 * 24 * 60)])
    resolution_minutes = IntegerField("In-house resolution (minutes)",
                                      validators=[DataRequired(), NumberRange(1, 60 * 24 * 60)])
    routed = BooleanField("Hand conversations to the department")


class ContactActionForm(FlaskForm):
    contact_id = IntegerField(validators=[DataRequired()])


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD, max=200)])


class RoleForm(FlaskForm):
    user_id = IntegerField(validators=[DataRequired()])
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role])
    active = BooleanField("Active")


def _department_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(d.slug, d.name) for d in owners.list_departments(session=storage.session())]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


@bp.route("/owners", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def owners_page() -> Any:
    """Departments with their contacts, and categories with owner and response-time agreement."""
    s = storage.session()
    contact_form = ContactForm(prefix="contact")
    contact_form.department.choices = _department_choices()
    action_form = ContactActionForm(prefix="act")
    category_form = CategoryForm(prefix="cat")
    category_form.department.choices = _department_choices(blank="-")
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "add-contact" and contact_form.validate_on_submit():
                owners.add_contact(session=s, department=contact_form.department.data, name=contact_form.name.data,
                                   email=contact_form.email.data or "", phone=contact_form.phone.data or "",
                                   on_call=contact_form.on_call.data, actor=current_user())
                flash(gettext("Added {name}.", name=contact_form.name.data), "ok")
                return redirect(url_for("admin.owners_page"))
            if action in ("on-call", "off-call", "remove-contact") and action_form.validate_on_submit():
                contact_id = action_form.contact_id.data
                if action == "remove-contact":
                    owners.remove_contact(session=s, contact_id=contact_id, actor=current_user())
                else:
                    owners.set_on_call(session=s, contact_id=contact_id, on_call=action == "on-call",
                                       actor=current_user())
                return redirect(url_for("admin.owners_page"))
            if action == "category" and category_form.validate_on_submit():
                owners.update_category(
                    session=s, slug=category_form.slug.data,
                    first_response_minutes=category_form.first_response_minutes.data,
                    resolution_minutes=category_form.resolution_minutes.data,
                    department=category_form.department.data or None, routed=category_form.routed.data,
                    row_version=category_form.row_version.data, actor=current_user())
                flash(gettext("Saved {name}.", name=named("category", category_form.slug.data)), "ok")
                return redirect(url_for("admin.owners_page"))
        except KbError as exc:
            flash(gettext(exc.message), "error")
            status = exc.status
        else:
            status = 422
    return render_template("admin/owners.html", departments=owners.list_departments(session=s),
                           categories=owners.list_categories(session=s), contact_form=contact_form,
                           action_form=action_form, category_form=category_form), status


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users_page() -> Any:
    """Create users and change their roles."""
    s = storage.session()
    form = UserForm(prefix="new")
    role_form = RoleForm(prefix="role")
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "create" and form.validate_on_submit():
                accounts.create_user(session=s, username=form.username.data, password=form.password.data,
                                     role=form.role.data, display_name=form.display_name.data or "",
                                     actor=current_user())
                flash(f"Created {form.username.data}.", "ok")
                return redirect(url_for("admin.users_page"))
            if request.form.get("action") == "role" and role_form.validate_on_submit():
                accounts.set_role(session=s, user_id=role_form.user_id.data, role=role_form.role.data,
                                  active=role_form.active.data, actor=signed_in_user())
                flash(gettext("Saved."), "ok")
                return redirect(url_for("admin.users_page"))
        except KbError as exc:
            form.form_errors.append(exc.message)
        status = 422
    return render_template("admin/users.html", users=accounts.list_users(session=s), form=form,
                           role_form=role_form, roles=[r.value for r in Role]), status
