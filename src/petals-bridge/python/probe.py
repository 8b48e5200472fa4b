"""petalmesh preflight probe: report the Python version, whether Petals imports (and its version), and the
GPUs PyTorch sees, as one JSON line prefixed with PETALMESH_PROBE. Every section fails independently."""

import json
import platform
import sys

report = {"python": {"version": platform.python_version(), "executable": sys.executable}}

try:
    import petals

    report["petals"] = {"ok": True, "version": getattr(petals, "__version__", None)}
except BaseException as e:  # ImportError, AssertionError on dependency versions, ...
    report["petals"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}

try:
    import torch

    gpus = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gpus.append({"index": index, "name": props.name, "totalMemory": int(props.total_memory)})
    mps = bool(getattr(getattr(torch, "backends", None), "mps", None) and torch.backends.mps.is_available())
    report["torch"] = {
        "ok": True,
        "version": getattr(torch, "__version__", None),
        "cuda": getattr(getattr(torch, "version", None), "cuda", None),
        "gpus": gpus,
        "mps": mps,
    }
except BaseException as e:
    report["torch"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}

print("PETALMESH_PROBE " + json.dumps(report), flush=True)
