"""Blueprints: thin views — parse the request, authorize, call a service, render."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.views import admin, auth, dev, files, firm, main, ops, workflows

    app.register_blueprint(ops.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(firm.bp)
    app.register_blueprint(workflows.bp)
    from app.views import workflow_items

    app.register_blueprint(workflow_items.bp)
    app.register_blueprint(files.bp)
    from app.views import api, lucie, lucie_agent, outbox_admin

    app.register_blueprint(lucie.bp)
    app.register_blueprint(lucie_agent.bp)
    app.register_blueprint(outbox_admin.bp)
    app.register_blueprint(api.bp)
    from app.views import compte, cpam, dat

    app.register_blueprint(dat.bp)
    app.register_blueprint(cpam.bp)
    from app.views import form_models

    app.register_blueprint(form_models.bp)
    app.register_blueprint(compte.bp)
    from app.views import qrpro_agent, qrpro_dossiers

    app.register_blueprint(qrpro_agent.bp)
    app.register_blueprint(qrpro_dossiers.bp)
    from app.views import qrpro_employer, qrpro_victim

    app.register_blueprint(qrpro_victim.bp)
    app.register_blueprint(qrpro_employer.bp)
    from app.views import subsidies, subsidies_carsat

    app.register_blueprint(subsidies_carsat.bp)
    app.register_blueprint(subsidies.bp)
    if app.config["DEV_MAIL_PAGE"]:
        app.register_blueprint(dev.bp)
