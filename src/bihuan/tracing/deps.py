"""FastAPI dependencies of tracing's API and pages: the app's tracing runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bihuan.tracing.service.runtime import TracingRuntime, runtime_for


def tracing_runtime(request: Request) -> TracingRuntime:
    """The app's tracing runtime (profile, scan store, zone, backend), configured by create_app."""
    runtime = runtime_for(request.app.state.database)
    assert runtime is not None, "create_app configures tracing"
    return runtime


RuntimeDep = Annotated[TracingRuntime, Depends(tracing_runtime)]
