"""The `safetynet` command: assembles each capability's typer group."""

from __future__ import annotations

import typer

from safetynet.analytics.cli import facts_cli
from safetynet.applications.cli import app as applications_app
from safetynet.assessment.cli import app as assessment_app
from safetynet.audit.cli import app as audit_app
from safetynet.auth.cli import app as users_app
from safetynet.casework.cli import app as tasks_app
from safetynet.cli.demo import demo, serve
from safetynet.feeds.cli import app as feeds_app
from safetynet.linkage.cli import app as linkage_app
from safetynet.monitoring.catalogue_cli import app as monitor_app
from safetynet.monitoring.run_cli import run_command as monitor_run
from safetynet.monitoring.score_cli import score_command as monitor_score
from safetynet.monitoring.warnings_cli import app as warnings_app
from safetynet.regions.cli import app as regions_app
from safetynet.registry.cli import app as registry_app
from safetynet.rules.cli import assess, counterfactual_cli
from safetynet.simulation.cli import simulate_cli
from safetynet.standards.cli import app as standards_app
from safetynet.synth.cli import synth
from safetynet.verification.cli import app as verify_app
from safetynet.workdays.cli import app as calendar_app

app = typer.Typer(
    name="safetynet",
    help="safetynet: low-income population register and dynamic monitoring platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _start() -> None:
    """Every command creates its files private (the database, lake, attachments, exports hold
    personal data): umask 0077 for the whole process."""
    from safetynet.files import make_private

    make_private()


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema and seed reference data."""
    from safetynet.bootstrap import init_database
    from safetynet.db import get_engine

    init_database(get_engine())
    typer.echo("database is at the current schema")


app.command("synth")(synth)
app.command("assess")(assess)
app.command("facts")(facts_cli)
app.command("simulate")(simulate_cli)
app.command("counterfactual")(counterfactual_cli)
app.command("demo")(demo)
app.command("serve")(serve)
app.add_typer(registry_app, name="registry")
app.add_typer(regions_app, name="regions")
app.add_typer(standards_app, name="standards")
app.add_typer(feeds_app, name="feeds")
app.add_typer(linkage_app, name="linkage")
app.add_typer(assessment_app, name="assessment")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(verify_app, name="verify")
monitor_app.command("run")(monitor_run)
monitor_app.command("score")(monitor_score)
app.add_typer(monitor_app, name="monitor")
app.add_typer(warnings_app, name="warnings")
app.add_typer(tasks_app, name="tasks")
app.add_typer(calendar_app, name="calendar")
app.add_typer(applications_app, name="applications")


if __name__ == "__main__":
    app()
