"""Single-object runtimes for the supervised experiment of vot-toolkit 0.9.0, registered as protocols
``evalkit-trax`` (TraX through vot-trax, the tracker in its own process) and ``evalkit-python`` (the toolkit's
in-process Python runtime).

vot-toolkit 0.9.0's supervised experiment gives a runtime one ``ObjectStatus`` to initialise with and expects one
back from ``update``, while its runtimes (``traxpython``, ``python``) now speak lists of objects: ``traxpython``
refuses the single status (it counts the two fields of the tuple as two objects) and refuses ``update`` without new
objects, and both return ``FrameResult([status], time)``, on which the experiment fails (``'list' object has no
attribute 'properties'``). These subclasses only adapt that shape: a single status in, a single status out; TraX
messages, timing, failure handling, result files and analyses stay the toolkit's own.

Importing this module registers the two protocols; :func:`evalkit.interop.vot_toolkit.evaluate` imports it in the
toolkit's process. To use them from the toolkit's own command line::

    python -c "import evalkit.interop.vot_runtime; from vot.utilities.cli import main; main()" \\
        evaluate --workspace WS evalkit_kcf
"""

from __future__ import annotations

from typing import Any

from vot.tracker import ObjectStatus, register_runtime_protocol
from vot.tracker.python import PythonRuntime
from vot.tracker.trax import PythonAdapter, TraxTrackerRuntime


def _single(result: Any) -> tuple[Any, float]:
    """(status, time) from a runtime result whose objects may be a one-element list."""
    objects, elapsed = result
    if isinstance(objects, list):
        if len(objects) != 1:
            raise ValueError(f"a single-object tracker reported {len(objects)} objects")
        objects = objects[0]
    return objects, elapsed


class SingleObjectTraxRuntime(TraxTrackerRuntime):
    """TraX runtime for one target: the experiment's single ``ObjectStatus`` in, a single status out."""

    def initialize(self, frame: Any, new: Any = None, properties: dict[str, Any] | None = None) -> Any:
        """Start the TraX server if needed and initialise it on ``new``."""
        from trax import TraxException

        if isinstance(new, ObjectStatus):
            new = [new]
        try:
            if self._restart:
                self.stop()
            self._connect()
            return _single(self._process.initialize(frame, new))
        except TraxException as e:
            self._error(e)

    def update(self, frame: Any, new: Any = None, properties: dict[str, Any] | None = None) -> Any:
        """Send the next frame; the server's one reported region."""
        from trax import TraxException

        try:
            return _single(self._process.update(frame, new))
        except TraxException as e:
            self._error(e)


class SingleObjectPythonRuntime(PythonRuntime):
    """The toolkit's in-process Python runtime, returning a single status for a single-object tracker."""

    def initialize(self, frame: Any, new: Any = None, properties: dict[str, Any] | None = None) -> Any:
        """Initialise the worker's tracker on ``new``."""
        return _single(super().initialize(frame, new, properties))

    def update(self, frame: Any, new: Any = None, properties: dict[str, Any] | None = None) -> Any:
        """The worker tracker's region in the next frame."""
        return _single(super().update(frame, new, properties))


register_runtime_protocol("evalkit-trax", PythonAdapter(SingleObjectTraxRuntime))
register_runtime_protocol("evalkit-python", SingleObjectPythonRuntime)
