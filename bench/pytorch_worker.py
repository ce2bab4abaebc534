"""PyTorch as its users are told to run it, answering step blocks on demand, for
bench/interleaved.ts: the same models as bench/pytorch_twins.py, in channels_last (and NCHW),
warmed up until a step's time settles, a fresh batch each step (drawn from a pool of distinct
batches, as a data loader hands them over), F.cross_entropy and Adam for training,
torch.inference_mode and eval for prediction.

Reads one JSON command per line on stdin and answers one JSON line on stdout:
    {"setup": {"model": "resnet50", "mode": "train", "batch": 32, "threads": 2, "layout": "channels_last"}}
        -> {"ready": true, "warmup": [seconds...], "torch": "1.13.1", "threads": 2}
    {"steps": 3}  -> {"seconds": [s1, s2, s3]}
    {"plain": 3}  -> {"seconds": [...]}   the same steps written as a plain training loop inline
                                           (the reference that this worker is held to)
Needs torch (Debian: python3-torch); never installed by npm.
"""

import json
import sys
import time
import warnings

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from pytorch_twins import convnet, mobilenetv2, resnet50  # noqa: E402


def build(case):
    if case["model"] == "resnet50":
        return resnet50(size=case.get("size", 64))
    if case["model"] == "mobilenetv2":
        return mobilenetv2(alpha=case.get("alpha", 1.0))
    return convnet()


def setup(case):
    warnings.filterwarnings("ignore", message="Using padding='same'")
    torch.set_num_threads(case["threads"])
    torch.manual_seed(0)
    model = build(case)
    fmt = torch.channels_last if case.get("layout", "channels_last") == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=fmt)
    batch, size = case["batch"], case.get("size", 64)
    # Distinct batches, cycled: each step sees a new tensor, as a training loop's data loader gives.
    pool = [torch.rand(batch, 3, size, size).contiguous(memory_format=fmt) for _ in range(8)]
    labels = [torch.randint(0, 6, (batch,)) for _ in range(8)]
    state = {"i": 0}
    if case["mode"] == "train":
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            i = state["i"] = (state["i"] + 1) % len(pool)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(pool[i]), labels[i])
            loss.backward()
            optimizer.step()
            return loss.item()
    else:
        model.eval()

        def step():
            i = state["i"] = (state["i"] + 1) % len(pool)
            with torch.inference_mode():
                return model(pool[i]).sum().item()

    def timed(n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            step()
            out.append(time.perf_counter() - t0)
        return out

    # Warm up: at least 3 steps, then until two steps in a row agree within 10% (at most 12).
    warm = timed(3)
    while len(warm) < 12 and abs(warm[-1] - warm[-2]) > 0.1 * warm[-1]:
        warm += timed(1)
    return timed, warm


def plain_loop(case, n):
    """The same training written inline, as a tutorial writes it: the reference for `steps`."""
    torch.set_num_threads(case["threads"])
    model = build(case).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    size = case.get("size", 64)
    xs = [torch.rand(case["batch"], 3, size, size).contiguous(memory_format=torch.channels_last) for _ in range(4)]
    ys = [torch.randint(0, 6, (case["batch"],)) for _ in range(4)]
    out = []
    for k in range(4 + n):
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(xs[k % 4]), ys[k % 4]).backward()
        opt.step()
        if k >= 4:
            out.append(time.perf_counter() - t0)
    return out


def main():
    timed = None
    case = None
    for line in sys.stdin:
        cmd = json.loads(line)
        if "setup" in cmd:
            case = cmd["setup"]
            timed, warm = setup(case)
            reply = {"ready": True, "warmup": warm, "torch": torch.__version__, "threads": torch.get_num_threads()}
        elif "steps" in cmd:
            reply = {"seconds": timed(cmd["steps"])}
        elif "plain" in cmd:
            reply = {"seconds": plain_loop(case, cmd["plain"])}
        else:
            reply = {"error": f"unknown command {line.strip()}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
