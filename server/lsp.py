"""The tracecot language server: pygls handlers over `Service` (one handler, one job).

    tracecot serve                      stdio (what the editor starts)
    tracecot serve --tcp [--host H --port N]
    tracecot serve --debugpy PORT       let a debugger attach to the server itself

Nothing but LSP messages is written to stdout: the real stdout is kept for the protocol and
file descriptor 1 points to stderr, so nothing printed in this process (or inherited by its
children) can corrupt the stream. User code only runs in the sandbox's children.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import uuid

from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from . import commands
from .asserts import assert_edit
from .service import Service, Settings

log = logging.getLogger("tracecot.server")
STATUS = "tracecot/status"
TRUST = "tracecot/trustChanged"
DEBOUNCE_S = 0.3


class Protocol(LanguageServerProtocol):
    """executeCommand as a plain coroutine: pygls then cancels it on $/cancelRequest (its
    generator-based default would leave the command, and its sandbox runs, going)."""

    _server: TracecotServer

    @lsp_method(T.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]  # a coroutine, see above
            self, params: T.ExecuteCommandParams):
        return await self._server.execute(params)

    def structure_message(self, data):
        """pygls drops a request whose params do not fit the method's type, leaving the
        client waiting forever; answer it with InvalidParams instead."""
        try:
            return super().structure_message(data)
        except Exception as exc:
            msg_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) and "method" in data:
                log.info("invalid params for %r (id %r)", data.get("method"), msg_id)
                err = JsonRpcInvalidParams(f"invalid params for {data.get('method')!r}")
                self._send_response(msg_id, None, err.to_response_error())
                return _Ignored()
            raise exc


class _Ignored:
    """A message already answered: pygls' dispatcher skips it (not JSON-RPC 2.0)."""
    jsonrpc = "ignored"


class TracecotServer(LanguageServer):
    def __init__(self):
        super().__init__("tracecot", "0.1.0", protocol_cls=Protocol, max_workers=4)
        self.svc: Service | None = None
        self._sandbox = None
        self._pending_refresh: dict[str, asyncio.Task] = {}
        self._refresh_handle: asyncio.TimerHandle | None = None
        self._busy = 0

    # ------------------------------------------------------------------ plumbing
    def service(self) -> Service:
        if self.svc is None:
            from tracecot.tracer.running.sandbox import Sandbox
            self._sandbox = Sandbox()
            self.svc = Service(self._sandbox, self._text, self._path, self._model_state)
            # A run finished: lenses and inlay hints may show something new (batched).
            self.svc.runner.listeners.append(lambda req, trace: self.refresh_views())
        return self.svc

    def _text(self, uri: str) -> str | None:
        try:
            doc = self.workspace.get_text_document(uri)
            return doc.source
        except Exception:  # noqa: BLE001 - not open and not readable
            return None

    @staticmethod
    def _path(uri: str) -> str | None:
        try:
            return to_fs_path(uri) if uri.startswith("file:") else None
        except Exception:  # noqa: BLE001
            return None

    def status(self, state: str, message: str | None = None) -> None:
        params = {"state": state}
        if message:
            params["message"] = message
        try:
            self.protocol.notify(STATUS, params)
        except Exception:  # e.g. the client went away
            log.debug("status not sent", exc_info=True)

    def _model_state(self, state: str, message: str) -> None:
        if state == "loading":
            self.status("modelLoading", message)
        elif self._busy == 0:
            self.status("ready", None if state == "ready" else message)
        if state == "unavailable":
            self.log_to_client(message, T.MessageType.Warning)

    def log_to_client(self, message: str, kind=T.MessageType.Info) -> None:
        try:
            self.window_log_message(T.LogMessageParams(type=kind, message=f"tracecot: {message}"))
        except Exception:  # noqa: BLE001
            pass

    def report_server_error(self, error, source):
        log.error("%s: %s", getattr(source, "__name__", source), error)

    def _caps(self):
        return self.client_capabilities

    def refresh_views(self) -> None:
        """Ask the editor to fetch lenses and inlay hints again (batched)."""
        if self._refresh_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._refresh_handle = loop.call_later(DEBOUNCE_S, self._send_refresh)

    def _send_refresh(self) -> None:
        self._refresh_handle = None
        ws = getattr(self._caps(), "workspace", None)
        try:
            if ws and ws.code_lens and ws.code_lens.refresh_support:
                self.workspace_code_lens_refresh(None)
            if ws and ws.inlay_hint and ws.inlay_hint.refresh_support:
                self.workspace_inlay_hint_refresh(None)
        except Exception:
            log.debug("refresh not sent", exc_info=True)

    # ------------------------------------------------------------------ documents
    def schedule(self, uri: str) -> None:
        old = self._pending_refresh.pop(uri, None)
        if old is not None:
            old.cancel()
        self._pending_refresh[uri] = asyncio.ensure_future(self._refresh_document(uri))

    async def _refresh_document(self, uri: str) -> None:
        await asyncio.sleep(DEBOUNCE_S)
        svc = self.service()
        try:
            diags = await svc.diagnostics(uri)
            self.publish(uri, diags)
            self.refresh_views()
            doc = svc.document(uri)
            if doc is None or doc.syntax is not None or not svc.trusted:
                return
            for fn in doc.functions[:60]:       # warm what hovers and lenses will show
                run = await svc.primary(uri, doc, fn)
                if run is not None and run.trace.ok:
                    await svc.explanation(run)
            self.refresh_views()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("refreshing %s failed", uri)
        finally:
            if self._pending_refresh.get(uri) is asyncio.current_task():
                del self._pending_refresh[uri]

    def publish(self, uri: str, diags) -> None:
        out = [T.Diagnostic(range=_range(d.range), message=d.message, source="tracecot",
                            severity=T.DiagnosticSeverity.Warning, code="example-mismatch",
                            data=d.data) for d in diags]
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=out))

    # ------------------------------------------------------------------ commands
    async def execute(self, params: T.ExecuteCommandParams):
        if params.command not in commands.ALL:
            return {"error": f"unknown command {params.command!r}"}
        arg = params.arguments[0] if params.arguments else None
        progress = Progress(self, params.work_done_token)
        self._busy += 1
        self.status("running")
        try:
            answer = await commands.run_command(self.service(), params.command, arg, progress)
        finally:
            self._busy -= 1
            if self._busy == 0:
                m = self.service().model
                self.status("modelLoading" if m.state == "loading" else "ready",
                            m.message if m.state == "unavailable" else None)
        if isinstance(answer, dict) and "error" not in answer and "needsArgs" not in answer:
            self.refresh_views()
        return answer


class Progress:
    """$/progress for one command: the request's token, else a server-initiated one. A
    cancel from the progress UI cancels the command (like $/cancelRequest)."""

    def __init__(self, server: TracecotServer, token):
        self.server, self.token = server, token
        self.task = asyncio.current_task()
        self.started = self.ended = False

    def begin(self, title: str) -> None:
        asyncio.ensure_future(self._begin(title))

    async def _begin(self, title: str) -> None:
        wdp = self.server.work_done_progress
        try:
            if self.token is None:
                caps = getattr(self.server._caps(), "window", None)
                if not (caps and caps.work_done_progress):
                    return
                self.token = f"tracecot-{uuid.uuid4().hex[:12]}"
                await asyncio.wait_for(wdp.create_async(self.token), 5)
            if self.ended:              # the work was over before the client said yes
                wdp.tokens.pop(self.token, None)
                return
            wdp.begin(self.token, T.WorkDoneProgressBegin(title=title, cancellable=True))
            self.started = True
            fut = wdp.tokens.get(self.token)
            if fut is not None and self.task is not None:
                task = self.task
                fut.add_done_callback(lambda f: f.cancelled() and task.cancel())
        except Exception:  # progress is a nicety
            log.debug("progress not available", exc_info=True)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.started:
            self.server.work_done_progress.report(
                self.token, T.WorkDoneProgressReport(message=message, percentage=percentage))

    def end(self, message: str | None = None) -> None:
        self.ended = True
        if self.started:
            self.started = False
            self.server.work_done_progress.end(self.token, T.WorkDoneProgressEnd(message=message))
            self.server.work_done_progress.tokens.pop(self.token, None)


def _range(r) -> T.Range:
    return T.Range(T.Position(r[0], r[1]), T.Position(r[2], r[3]))


server = TracecotServer()


# ---------------------------------------------------------------------- lifecycle
@server.feature(T.INITIALIZE)
def on_initialize(ls: TracecotServer, params: T.InitializeParams):
    svc = ls.service()
    opts = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    roots = [to_fs_path(f.uri) for f in (params.workspace_folders or []) if f.uri]
    if not roots and params.root_uri:
        roots = [to_fs_path(params.root_uri)]
    elif not roots and params.root_path:
        roots = [params.root_path]
    svc.initialize(Settings.from_json(opts.get("settings")),
                   opts.get("trusted") is not False,    # clients without the option: trusted
                   [r for r in roots if r])


@server.feature(T.INITIALIZED)
async def on_initialized(ls: TracecotServer, params: T.InitializedParams):
    svc = ls.service()
    ls.status("ready", None if svc.trusted else "untrusted workspace: tracecot runs no code")
    await pull_settings(ls)
    svc.set_trusted(svc.trusted)


async def pull_settings(ls: TracecotServer) -> None:
    ws = getattr(ls._caps(), "workspace", None)
    if not (ws and ws.configuration):
        return
    try:
        got = await asyncio.wait_for(ls.workspace_configuration_async(
            T.ConfigurationParams(items=[T.ConfigurationItem(section="tracecot")])), 5)
    except Exception:  # keep the initializationOptions
        log.debug("workspace/configuration failed", exc_info=True)
        return
    if got and isinstance(got[0], dict):
        apply_settings(ls, got[0])


def apply_settings(ls: TracecotServer, raw: dict) -> None:
    svc = ls.service()
    changed = svc.apply_settings(Settings.from_json(raw, svc.settings))
    if changed:
        log.info("settings changed: %s", ", ".join(changed))
        ls.refresh_views()


@server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def on_configuration(ls: TracecotServer, params: T.DidChangeConfigurationParams):
    s = params.settings
    if isinstance(s, dict) and isinstance(s.get("tracecot"), dict):
        apply_settings(ls, s["tracecot"])
    else:
        await pull_settings(ls)


@server.feature(TRUST)
def on_trust(ls: TracecotServer, params):
    trusted = getattr(params, "trusted", None)
    if trusted is None and isinstance(params, dict):
        trusted = params.get("trusted")
    if trusted is not True:
        return
    svc = ls.service()
    svc.set_trusted(True)
    ls.status("ready")
    for doc in list(ls.workspace.text_documents):
        ls.schedule(doc)
    ls.refresh_views()


@server.feature(T.SHUTDOWN)
def on_shutdown(ls: TracecotServer, params):
    if ls.svc is not None:
        ls.svc.close()
    if ls._sandbox is not None:
        ls._sandbox.close()


# ---------------------------------------------------------------------- documents
@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def on_open(ls: TracecotServer, params: T.DidOpenTextDocumentParams):
    ls.schedule(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def on_change(ls: TracecotServer, params: T.DidChangeTextDocumentParams):
    ls.schedule(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def on_save(ls: TracecotServer, params: T.DidSaveTextDocumentParams):
    ls.service().tests.invalidate()


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def on_close(ls: TracecotServer, params: T.DidCloseTextDocumentParams):
    uri = params.text_document.uri
    task = ls._pending_refresh.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.service().forget(uri)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


# ---------------------------------------------------------------------- features
@server.feature(T.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: TracecotServer, params: T.HoverParams):
    pos = params.position
    text = await ls.service().hover(params.text_document.uri, pos.line, pos.character)
    if text is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))


_LENS_TITLES = {"explain": ("Explain run", commands.EXPLAIN),
                "find": ("Find input…", commands.FIND)}


@server.feature(T.TEXT_DOCUMENT_CODE_LENS, T.CodeLensOptions(resolve_provider=True))
def on_code_lens(ls: TracecotServer, params: T.CodeLensParams):
    out = []
    for fn, kind, data in ls.service().lenses(params.text_document.uri):
        rng = _range((fn.def_line, 0, fn.def_line, 0))
        if kind == "run":
            out.append(T.CodeLens(range=rng, data={"kind": "run", **(data or {})}))
        else:
            title, cmd = _LENS_TITLES[kind]
            out.append(T.CodeLens(range=rng, command=T.Command(title=title, command=cmd,
                                                               arguments=[data])))
    return out


@server.feature(T.CODE_LENS_RESOLVE)
async def on_code_lens_resolve(ls: TracecotServer, lens: T.CodeLens):
    data = lens.data if isinstance(lens.data, dict) else {}
    uri, fn = data.get("uri"), data.get("function")
    got = None
    if isinstance(uri, str) and isinstance(fn, str):
        got = await ls.service().resolve_run_lens(uri, fn)
    if got is None:
        lens.command = T.Command(title="▶ (no run)", command="")
        return lens
    title, args = got
    lens.command = T.Command(title=title, command=commands.EXPLAIN, arguments=[args])
    return lens


@server.feature(T.TEXT_DOCUMENT_INLAY_HINT, T.InlayHintOptions(resolve_provider=False))
async def on_inlay_hint(ls: TracecotServer, params: T.InlayHintParams):
    r = params.range
    hints = await ls.service().inlay_hints(params.text_document.uri, r.start.line, r.end.line)
    return [T.InlayHint(position=T.Position(line, col), label=text, padding_left=True)
            for line, col, text in hints]


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
async def on_code_action(ls: TracecotServer, params: T.CodeActionParams):
    uri = params.text_document.uri
    svc = ls.service()
    out = []
    for d in params.context.diagnostics or []:
        data = d.data if isinstance(d.data, dict) else {}
        if d.source != "tracecot" or "actual" not in data \
                or not isinstance(data.get("range"), list):
            continue
        edit = T.TextEdit(range=_range(data["range"]), new_text=str(data["actual"]))
        out.append(T.CodeAction(
            title=f"Update the expected value to {data['actual'][:60]}",
            kind=T.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
            edit=T.WorkspaceEdit(changes={uri: [edit]})))
    doc = svc.document(uri)
    if svc.trusted and doc is not None and doc.syntax is None:
        fn = doc.function_at(params.range.start.line)
        if fn is not None:
            try:
                got = await asyncio.wait_for(svc.verified_assert(uri, doc, fn),
                                             svc.settings.timeout * 2 + 1)
            except asyncio.TimeoutError:
                got = None
            if got is not None:
                text, line = got
                edit = assert_edit(doc.text, text, line)
                last = text.splitlines()[-1][:80]
                out.append(T.CodeAction(title=f"Insert verified assert: {last}",
                                        kind=T.CodeActionKind.QuickFix,
                                        edit=T.WorkspaceEdit(changes={uri: [edit]})))
    return out


for _cmd in commands.ALL:          # advertised in executeCommandProvider; run by Protocol
    server.command(_cmd)(lambda ls, *args: None)


# ---------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracecot serve", description="tracecot language server")
    p.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default)")
    p.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    p.add_argument("--debugpy", type=int, metavar="PORT",
                   help="let a Python debugger attach to the server on PORT")
    p.add_argument("--log-level", default=os.environ.get("TRACECOT_LOG", "INFO"),
                   help="DEBUG, INFO, WARNING, ERROR (default INFO)")
    p.add_argument("--log-file", help="also write the log to this file")
    return p


def main(argv: list[str]) -> int:
    ns = _parser().parse_args(argv)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if ns.log_file:
        handlers.append(logging.FileHandler(ns.log_file, encoding="utf-8"))
    logging.basicConfig(level=getattr(logging, str(ns.log_level).upper(), logging.INFO),
                        handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    proto_out = None
    if not ns.tcp:
        # Keep the protocol on a private descriptor; fd 1 becomes stderr (before debugpy
        # starts its adapter process, which inherits our descriptors).
        proto_out = os.fdopen(os.dup(1), "wb")
        sys.stdout.flush()
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    if ns.debugpy:
        try:
            import debugpy
        except ImportError:
            print("tracecot serve: --debugpy needs the debugpy package "
                  "(pip install debugpy) in this interpreter", file=sys.stderr)
            return 2
        try:
            debugpy.listen(("127.0.0.1", ns.debugpy))
        except Exception as e:  # noqa: BLE001 - e.g. the port is taken
            print(f"tracecot serve: debugpy cannot listen on 127.0.0.1:{ns.debugpy}: {e}",
                  file=sys.stderr)
            return 2
        log.info("debugpy listening on 127.0.0.1:%d", ns.debugpy)
    if ns.tcp:
        server.start_tcp(ns.host, ns.port)
        return 0
    server.start_io(sys.stdin.buffer, proto_out)
    return 0
