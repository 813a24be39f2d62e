from flask import render_template

from app.blueprints.certificates import bp
from app.learning.certificates import certificate_by_code


@bp.get("/<code>")
def certificate_detail(code: str):
    """Public verification page; printing it gives the certificate (print stylesheet)."""
    return render_template("learn/certificate.html", certificate=certificate_by_code(code))
