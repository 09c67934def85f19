"""`flask --app app faq lint|ask|match|eval`: the operators' and evaluators' tools."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

import bot.knowledge as knowledge
from bot.conversation import Conversation
from bot.knowledge import spreadsheet
from bot.matching import Match, Matcher
from bot.matching.baseline import BaselineMatcher
from bot.matching.evaluation import Report, cross_validate, evaluate, read_labelled
from bot.messages import Incoming
from bot.publishing import PublishError
from bot.session import State
from bot.storage import records

faq = AppGroup("faq", help="Check, try and evaluate the FAQ knowledge base.")


def _serving(directory: str | None = None) -> tuple[knowledge.KnowledgeBase, Matcher]:
    """The served knowledge base, or a copy in `directory` an operator wants to try before publishing it."""
    try:
        if directory is None:
            return current_app.extensions["knowledge"].current()
        kb = knowledge.load(directory)
        return kb, Matcher(kb, current_app.extensions["knowledge"].policy)
    except knowledge.KnowledgeError as exc:
        raise click.ClickException(f"the knowledge base does not load:\n{exc}") from None


knowledge_option = click.option(
    "--knowledge",
    "directory",
    type=click.Path(exists=True, file_okay=False),
    help="Try a copy of the knowledge folder instead of the one being served.",
)


@faq.command("lint")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def lint_command(directory: str | None) -> None:
    """Check every knowledge file; print `file:line: message` per problem, exit 1 if any.

    Entries due for review (KNOWLEDGE_REVIEW_DAYS) or citing a superseded source are printed as warnings:
    the bot still serves them."""
    root = directory or current_app.config["KNOWLEDGE_DIR"]
    kb, problems = knowledge.check(root)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {root}", err=True)
        sys.exit(1)
    warnings = knowledge.due_for_review(kb, dt.date.today(), int(current_app.config["KNOWLEDGE_REVIEW_DAYS"]))
    for warning in warnings:
        click.echo(f"{warning.file}:{warning.line}: warning: {warning.message}")
    alternates = sum(len(f.alternates) for f in kb.faqs)
    click.echo(f"ok: {len(kb.faqs)} FAQs, {alternates} alternate questions, {len(kb.out_of_scope)} out-of-scope topics")


@faq.command("export")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), help="Write an Excel workbook.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Write a UTF-8 CSV file.")
@knowledge_option
def export_command(xlsx: str | None, csv_file: str | None, directory: str | None) -> None:
    """Write every FAQ entry being served as one spreadsheet row (id, question, alternates, answer, …)."""
    if not (xlsx or csv_file):
        raise click.UsageError("give --xlsx FILE or --csv FILE")
    rows = spreadsheet.export_rows(directory or current_app.extensions["knowledge"].directory)
    if xlsx:
        spreadsheet.write_xlsx(rows, xlsx)
    if csv_file:
        spreadsheet.write_csv(rows, csv_file)
    click.echo(f"{len(rows)} entries written to {', '.join(f for f in (xlsx, csv_file) if f)}")


@faq.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--write", is_flag=True, help="Write the changes (only when lint finds no problem).")
@knowledge_option
def import_command(file: str, write: bool, directory: str | None) -> None:
    """Read a spreadsheet made by `faq export`, lint the result and print the diff; write only with --write."""
    root = directory or current_app.config["KNOWLEDGE_DIR"]
    try:
        result = spreadsheet.import_rows(root, spreadsheet.read_rows(file), write=write)
    except spreadsheet.SheetError as exc:
        raise click.ClickException(str(exc)) from None
    if not result.changed:
        click.echo("no changes: the knowledge files already say what the spreadsheet says")
        return
    click.echo(result.diff, nl=False)
    for problem in result.problems:
        click.echo(str(problem))
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s): nothing written", err=True)
        sys.exit(1)
    changed = ", ".join(result.changed_files)
    click.echo(f"written: {changed}" if result.written else f"would change {changed}; add --write to write it")


author_option = click.option(
    "--author", default=getpass.getuser, show_default="your login name", help="Who is recorded as doing it."
)


@faq.command("draft")
@click.argument("name")
@click.option("--reset", is_flag=True, help="Throw the draft away and copy the live knowledge again.")
def draft_command(name: str, reset: bool) -> None:
    """Print the folder of draft NAME, a copy of the live knowledge made on first use, to edit and publish."""
    try:
        click.echo(current_app.extensions["knowledge_store"].draft(name, reset=reset))
    except PublishError as exc:
        raise click.ClickException(str(exc)) from None


@faq.command("publish")
@click.option("--draft", "draft", help="Publish this draft (see `faq draft`) instead of KNOWLEDGE_DIR.")
@click.option("--message", "-m", default="", help="Why: kept with the version.")
@click.option("--force", is_flag=True, help="Publish even if it undoes a publish made since the draft was copied.")
@author_option
def publish_command(draft: str | None, message: str, force: bool, author: str) -> None:
    """Lint, run the labelled questions on it and on live, and make it the live version unless one goes wrong.

    Without --draft it publishes the KNOWLEDGE_DIR folder (your hand edits or `git pull`)."""
    store = current_app.extensions["knowledge_store"]
    source = store.root / "drafts" / draft if draft else current_app.config["KNOWLEDGE_DIR"]
    click.echo("checking: lint, then the labelled questions on the draft and on live (training takes a while) …")
    try:
        result = store.publish(source, author, message, force=force)
    except PublishError as exc:
        raise click.ClickException(str(exc)) from None
    if not result.accepted:
        for reason in result.reasons:
            click.echo(reason)
        click.echo(f"refused: {len(result.reasons)} reason(s); the live version is unchanged", err=True)
        sys.exit(1)
    for change in result.changes:
        click.echo(f"  {change}")
    click.echo(f"published version {result.version}; workers switch within KNOWLEDGE_RELOAD_SECONDS")


@faq.command("versions")
def versions_command() -> None:
    """List the published versions: number, when, who, what changed; * marks the live one."""
    store = current_app.extensions["knowledge_store"]
    versions = store.versions()
    if not versions:
        click.echo(f"nothing published yet: serving {store.live.resolve()}")
    for version in versions:
        mark = "*" if version.live else " "
        changes = "; ".join(version.changes[:5]) + (" …" if len(version.changes) > 5 else "")
        message = f" — {version.message}" if version.message else ""
        click.echo(f"{mark}{version.number:>4}  {version.at}  {version.author}{message}: {changes}")
    rejected = store.last_rejected()
    if rejected:
        click.echo(f"last refused publish: {rejected['at']} by {rejected['author']}: {rejected['reasons'][0]}")


@faq.command("rollback")
@click.argument("version", type=int)
@author_option
def rollback_command(version: int, author: str) -> None:
    """Serve published VERSION again (undo a publish); recorded in the history."""
    try:
        restored = current_app.extensions["knowledge_store"].rollback(version, author)
    except PublishError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"live is version {restored.number} again (published {restored.at} by {restored.author})")


@faq.command("ask")
@click.argument("question")
@click.option("--explain", is_flag=True, help="Show tokens, candidates with their signals and the decision.")
@knowledge_option
def ask_command(question: str, explain: bool, directory: str | None) -> None:
    """Print the reply a new user would see for QUESTION (nothing is recorded)."""
    kb, matcher = _serving(directory)
    turn = Conversation(kb, matcher).turn(Incoming("cli", "operator", text=question, paged=False), State())
    click.echo(turn.reply.text or "(no reply)")
    if explain and turn.match is not None:
        click.echo("\n" + "-" * 40)
        click.echo(explain_match(turn.match))


def explain_match(match: Match) -> str:
    e = match.explanation
    a = e.analysis
    lines = [
        f"normalised: {a.normalized}",
        f"region:     {match.region or '-'} ({a.region.place if a.region else 'none named'})",
        f"small talk: {a.smalltalk or '-'}",
        f"words:      {' / '.join(a.words)}",
        f"tokens:     {' '.join(a.typed.tokens)}",
    ]
    if a.heard:
        used = "used" if e.gathered and e.gathered.used_homophones else "not used"
        lines.append(f"pinyin:     {' '.join(a.heard.tokens)} ({used} by the lexical signal)")
    if a.tail:
        lines.append(f"story end:  {' / '.join(a.tail.words)}")
    if e.gathered:
        lines.append("lexical signal (best 5):")
        for scored in e.gathered.scored[:5]:
            lines.append(f"  {scored.score:.3f} {scored.key:<28} via “{scored.question}”")
        lines.append("learned signal (best 5):")
        for key, probability in sorted(e.gathered.learned.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"  {probability:.3f} {key}")
        lines.append(f"  out of scope in all: {e.gathered.evidence.out_of_scope_learned:.3f}")
    lines.append("probability that the FAQ is right (calibrated on held-out questions):")
    for weighed in e.weighed[:5]:
        signals = " ".join(f"{name}={value:.2f}" for name, value in weighed.signals.items())
        lines.append(f"  {weighed.probability:.3f} {weighed.faq_id:<28} {signals}")
    t = e.thresholds
    story = f" (a long story: >= {t.story_answer:.2f})" if t.story_answer is not None else ""
    lines.append(f"thresholds: answer >= {t.answer:.2f}{story}, offer options >= {t.clarify:.2f}")
    lines.append(f"decision:   {match.action} — {e.band}")
    return "\n".join(lines)


def match_json(item_id, match: Match) -> dict:
    return {
        "id": item_id,
        "action": match.action,
        "faq_id": match.faq_id,
        "region": match.region,
        "score": match.score,
        "candidates": [{"faq_id": c.faq_id, "score": c.score} for c in match.candidates],
    }


@faq.command("match")
@knowledge_option
def match_command(directory: str | None) -> None:
    """Read JSON lines {"id", "q"} on stdin; write one JSON line per input, in order."""
    _, matcher = _serving(directory)
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = item["q"]
            if not isinstance(question, str):
                raise TypeError("'q' must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            click.echo(f'stdin line {number}: skipped, expected {{"id": ..., "q": "..."}} ({exc})', err=True)
            continue
        click.echo(json.dumps(match_json(item.get("id"), matcher.match(question)), ensure_ascii=False))
        sys.stdout.flush()


@faq.command("unanswered")
@click.option("--limit", default=30, show_default=True, help="How many questions to list.")
def unanswered_command(limit: int) -> None:
    """List what users asked that the bot could not answer, most frequent first (personal numbers masked)."""
    rows = records.unanswered_summary(current_app.extensions["bot"].records_db, limit)
    if not rows:
        click.echo("no unanswered questions recorded")
    for row in rows:
        closest = row["closest_faq"] or "-"
        click.echo(f"{row['times']:>4}×  {row['last_asked']}  closest: {closest:<28} {row['question']}")


@faq.command("feedback")
def feedback_command() -> None:
    """Per FAQ, how often users said 有用 / 没用 (buttons or typed), the most disliked first."""
    rows = records.feedback_summary(current_app.extensions["bot"].records_db)
    if not rows:
        click.echo("no feedback recorded")
    for row in rows:
        click.echo(f"{row['faq_id']:<30} 有用 {row['helpful']:>4}  没用 {row['unhelpful']:>4}  last {row['last_at']}")


@faq.command("eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--baseline/--no-baseline", default=True, help="Also score the plain WRatio baseline.")
@click.option(
    "--cv",
    "folds",
    type=click.IntRange(min=2),
    help="Cross-validate: each of K folds is matched by a matcher calibrated without it.",
)
@knowledge_option
def eval_command(file: str | None, baseline: bool, folds: int | None, directory: str | None) -> None:
    """Score the matcher on a labelled JSONL set (default: the knowledge base's labelled/) and list every miss.

    Without --cv the served matcher answers, and it was calibrated on labelled/ itself: use --cv K for
    figures on questions the calibration did not see, or FILE for a set it never saw."""
    kb, matcher = _serving(directory)
    try:
        items = read_labelled(file) if file else list(kb.labelled)
    except knowledge.KnowledgeError as exc:
        raise click.ClickException(str(exc)) from None
    if not items:
        raise click.ClickException("no labelled questions: give FILE or add knowledge/labelled/*.jsonl")
    if folds:
        report = cross_validate(kb, items, folds, matcher.policy, matcher.trainer)
        name = f"matcher ({folds}-fold)"
    else:
        report, name = evaluate(matcher.match, items), "matcher"
    reports = {name: report}
    if baseline:
        reports["baseline (WRatio)"] = evaluate(BaselineMatcher(kb).match, items)
    click.echo(f"{len(items)} questions: {len(report.in_scope)} in scope, {len(report.out_of_scope)} out of scope\n")
    click.echo(_figures_table(reports))
    click.echo("\nby kind (answered right in scope, not answered out of scope):")
    for kind, (good, total) in report.by_kind().items():
        click.echo(f"  {kind:<12} {good:>4}/{total:<4} {good / total:>6.1%}")
    misses = report.misses()
    click.echo(f"\nmisses ({len(misses)}):")
    for outcome in misses:
        m = outcome.match
        got = m.faq_id if m.action == "answer" else ",".join(c.faq_id for c in m.candidates[:3])
        expected = ",".join(outcome.item.expect) or "(out of scope)"
        item = outcome.item
        click.echo(f"  {item.id} [{item.kind}] {m.action}: {got or '-'}  expected {expected}  «{item.text}»")


def _figures_table(reports: dict[str, Report]) -> str:
    names = {
        "top1": "in-scope top-1 accuracy",
        "clarify_hit": "clarify-hit rate",
        "confident_wrong": "confident-wrong rate",
        "false_accept": "out-of-scope false-accept",
        "region_accuracy": "region accuracy",
    }
    header = f"{'':<28}" + "".join(f"{label:>20}" for label in reports)
    rows = [header]
    for key, label in names.items():
        rows.append(f"{label:<28}" + "".join(f"{r.figures()[key]:>20.1%}" for r in reports.values()))
    return "\n".join(rows)
