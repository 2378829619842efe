"""The `braid` command. Heavy modules (torch, pyserini, the JVM) load inside commands, never here,
so `braid --help` stays instant."""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn

import click

from braid.cli.bench import bench_command
from braid.cli.check import check_command
from braid.cli.encode import encode_command
from braid.cli.evaluate import eval_command
from braid.cli.index import index_command
from braid.cli.search import search_command
from braid.cli.serve import serve_command
from braid.cli.shard import shard_command
from braid.cli.tune import tune_command
from braid.cli.write import add_command, compact_command, delete_command
from braid.fusion.errors import BraidError
from braid.indexing.interrupts import exit_code, raise_on_termination

DEBUG_ENV = "BRAID_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--java-heap",
    envvar="BRAID_JAVA_HEAP",
    metavar="SIZE",
    help="Maximum Java heap for Lucene, e.g. 4g (env BRAID_JAVA_HEAP; default: the JVM's own).",
)
@click.version_option(package_name="braid", prog_name="braid")
def cli(java_heap: str | None) -> None:
    """braid: hybrid search over BM25, learned-sparse and dense indexes, with BEIR-style evaluation."""
    from braid.indexing.jvm import configure_jvm

    configure_jvm(java_heap)


cli.add_command(index_command)
cli.add_command(encode_command)
cli.add_command(search_command)
cli.add_command(eval_command)
cli.add_command(tune_command)
cli.add_command(bench_command)
cli.add_command(serve_command)
cli.add_command(check_command)
cli.add_command(add_command)
cli.add_command(delete_command)
cli.add_command(compact_command)
cli.add_command(shard_command)


def main() -> None:
    """Entry point: every failure becomes one line on stderr and a non-zero exit code."""
    raise_on_termination()
    try:
        code = cli.main(standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _interrupted()
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except BraidError as error:
        click.echo(f"braid: error: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # a bug or a Java failure: still one line, traceback on request
        if exit_code() is not None:  # a library turned the interrupt into its own error
            _interrupted()
        if os.environ.get(DEBUG_ENV):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        click.echo(f"braid: internal error: {type(error).__name__}: {message} (set {DEBUG_ENV}=1 for the traceback)", err=True)
        sys.exit(2)
    # The command has finished (its index complete, its output written): a signal from here on must
    # not turn that into a death by signal. Python puts its own handlers back to the defaults while
    # it shuts down, but leaves ignored signals ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted() -> NoReturn:
    """Ctrl-C or SIGTERM: the stack has unwound (staging folders are gone); leave at once. Exiting
    through the interpreter's shutdown with the JVM and torch threads mid-work can crash the JVM."""
    click.echo("braid: interrupted", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code() or 130)


if __name__ == "__main__":
    main()
