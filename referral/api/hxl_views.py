"""HXL pages of the directory: export the service map, import it back, import areas from
a COD table. Ordinary pages (session, CSRF); the export is an audited POST (R25)."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf, InputRequired

from referral.api import hxl
from referral.clock import utcnow
from referral.messages import lazy_gettext as _l
from referral.security.policy import Permission, requires

blueprint = Blueprint("hxl", __name__, url_prefix="/directory/hxl")

Page = str | tuple[str, int] | Response
MAX_UPLOAD = 5 * 1024 * 1024


class ExportForm(FlaskForm):
    file_format = HiddenField(label="", validators=[InputRequired(), AnyOf(["csv", "xlsx"])])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))


@blueprint.route("/export", methods=["POST"])
@requires(Permission.BROWSE_DIRECTORY)
def export() -> Response:
    form = ExportForm()
    if not form.validate():
        flash(_("Choose CSV or XLSX."), "error")
        return redirect(url_for("directory.index"))
    file_format = form.file_format.data or "csv"
    data = hxl.export_directory(file_format, actor=current_user)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return send_file(
        io.BytesIO(data),
        mimetype=hxl.XLSX_MIMETYPE if file_format == "xlsx" else hxl.CSV_MIMETYPE,
        as_attachment=True,
        download_name=f"services-hxl-{stamp}.{file_format}",
        max_age=0,
    )


def _read(form: ImportForm) -> list[list[str]] | None:
    upload = form.file.data
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        form.file.errors = [_("The file is too large (at most 5 MB).")]
        return None
    try:
        return hxl.read_table(data, upload.filename or "")
    except hxl.TableError as error:
        form.file.errors = [str(error)]
        return None


def _import_page(kind: str) -> Page:
    form = ImportForm()
    result = None
    if request.method == "POST":
        rows = _read(form) if form.validate() else None
        if rows is not None:
            run = hxl.import_directory if kind == "services" else hxl.import_cod_areas
            result = run(rows, actor=current_user)
            if result.ok:
                flash(
                    _(
                        "Imported: %(created)d created, %(updated)d updated.",
                        created=result.created,
                        updated=result.updated,
                    ),
                    "success",
                )
                return redirect(
                    url_for("directory.index" if kind == "services" else "directory.areas")
                )
        return render_template("hxl/import.html", form=form, result=result, kind=kind), 400
    return render_template("hxl/import.html", form=form, result=None, kind=kind)


@blueprint.route("/import", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def import_services() -> Page:
    return _import_page("services")


@blueprint.route("/areas", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def import_areas() -> Page:
    return _import_page("areas")
