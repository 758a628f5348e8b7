"""The playground's API described as an OpenAPI 3.1 document (served at ``/openapi.json``).

The JSON drawing body is the pydantic model ``Pixels``: the server validates requests with it
and the document takes its schema from it, so the two cannot disagree.
"""

from pydantic import BaseModel, Field

from .. import __version__

MAX_UNITS = 256  # weight images per /api/weights request


class Pixels(BaseModel):
    """A drawing as JSON (``Content-Type: application/json``)."""

    pixels: list[list[float]] = Field(description="rows of gray values: 0..1, or 0..255 when any value exceeds 1",
                                      examples=[[[0, 0, 0], [0, 255, 0], [0, 0, 0]]])


def _query(name, description, kind="string", required=False, minimum=None):
    schema = {"type": kind, **({"minimum": minimum} if minimum is not None else {})}
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


MODEL = _query("model", "a model id from /api/models (default: the first listed)")
SINCE = _query("since", "the first event number wanted (default 0)", "integer", minimum=0)
ERROR = {"description": "refused: {error, status} says why (400 malformed, 404 unknown model, 408 body too "
                        "slow, 411 no Content-Length, 413 too large, 415 not an image; 500 the server's fault)",
         "content": {"application/json": {"schema": {"type": "object", "properties": {
             "error": {"type": "string"}, "status": {"type": "integer"}}}}}}


def _get(summary, parameters=(), kind="application/json"):
    return {"get": {"summary": summary, "parameters": list(parameters),
                    "responses": {"200": {"description": summary, "content": {kind: {}}}, "4XX": ERROR}}}


def _drawing(summary):
    image = {"schema": {"type": "string", "format": "binary"}}
    body = {"required": True, "content": {"image/png": image, "image/jpeg": image,
                                          "application/json": {"schema": {"$ref": "#/components/schemas/Pixels"}}}}
    return {"post": {"summary": summary, "parameters": [MODEL], "requestBody": body,
                     "responses": {"200": {"description": summary, "content": {"application/json": {}}},
                                   "4XX": ERROR, "500": ERROR}}}


def document():
    """The OpenAPI document of the endpoints listed in ``app``'s docstring."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "nnscratch playground", "version": __version__,
                 "description": "Draw a digit and watch a trained network think: predictions, hidden-layer "
                                "activations, weight images and training curves of the runs being served."},
        "paths": {
            "/api/models": _get("the models served: id, dataset, preset, accuracy, layers (or the error of one "
                                "that cannot be loaded)"),
            "/api/history": _get("per-epoch loss, accuracy, val_loss, val_accuracy, lr and time", [MODEL]),
            "/api/predict": _drawing("class probabilities of a drawing and the 28x28 input the network saw"),
            "/api/activations": _drawing("the same as /api/predict plus every hidden layer's activations"),
            "/api/weights": _get("weight images of hidden units (incoming weights as pictures, scaled by max |w|)", [
                MODEL, _query("layer", "hidden layer index", "integer", True, 0),
                _query("unit", "one unit (else start and count)", "integer", minimum=0),
                _query("start", "first unit (default 0)", "integer", minimum=0),
                _query("count", f"number of units (default 64, at most {MAX_UNITS})", "integer", minimum=1)]),
            "/api/live": _get("server-sent events of the run being trained (run, begin, batch, epoch, end, done)",
                              [SINCE], "text/event-stream"),
            "/api/live/events": _get("the live run's events as one list (polling)", [SINCE]),
        },
        "components": {"schemas": {"Pixels": Pixels.model_json_schema()}},
    }
