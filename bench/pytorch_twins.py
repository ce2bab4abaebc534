"""The PyTorch twins of simdnet's benchmark models (and their runner for bench/models.ts).

The same ResNet-50 (the tutorial's: zero padding 3, conv1 7x7/2, bottleneck stages 3-4-6-3,
2x2 average pool, 6-way classifier) and the same 3-layer ConvNet, on 64x64x3 inputs; Adam and
cross-entropy; train steps (forward, loss, backward, update) or inference in eval mode.

    python3 bench/pytorch_twins.py '{"model": "resnet50", "mode": "train", "batch": 32, "threads": 2, "reps": 5}'

Prints one JSON line: the case with "seconds" per measured step and "peakRssMiB". Needs torch
(Debian: python3-torch); bench/models.ts runs it when `python3 -c "import torch"` works and
never installs anything.
"""

import json
import resource
import sys

import torch
from torch import nn


class Bottleneck(nn.Module):
    def __init__(self, cin, filters, stride, shortcut):
        super().__init__()
        f1, f2, f3 = filters
        # Keras's BatchNormalization: epsilon 1e-3, momentum 0.99 (PyTorch's 0.01).
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
        self.branch = nn.Sequential(
            nn.Conv2d(cin, f1, 1, stride), bn(f1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, 1, padding=1), bn(f2), nn.ReLU(),
            nn.Conv2d(f2, f3, 1, 1), bn(f3),
        )
        self.shortcut = nn.Sequential(nn.Conv2d(cin, f3, 1, stride), bn(f3)) if shortcut else nn.Identity()

    def forward(self, x):
        return torch.relu(self.branch(x) + self.shortcut(x))


def resnet50(classes=6, size=64):
    layers = [nn.ZeroPad2d(3), nn.Conv2d(3, 64, 7, 2), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(), nn.MaxPool2d(3, 2)]
    cin = 64
    for filters, blocks, stride in [((64, 64, 256), 3, 1), ((128, 128, 512), 4, 2), ((256, 256, 1024), 6, 2), ((512, 512, 2048), 3, 2)]:
        layers.append(Bottleneck(cin, filters, stride, True))
        cin = filters[2]
        layers += [Bottleneck(cin, filters, 1, False) for _ in range(blocks - 1)]
    # The tutorial's 2x2 average pool after stage 5 (2x2 at 64 pixels, 7x7 at 224), then flatten.
    layers += [nn.AvgPool2d(2), nn.Flatten(), nn.Linear(2048 * ((size // 32) // 2) ** 2, classes)]
    return nn.Sequential(*layers)


def convnet(classes=6):
    return nn.Sequential(
        nn.Conv2d(3, 8, 4, padding="same", bias=False), nn.ReLU(), nn.MaxPool2d(8, 8),
        nn.Conv2d(8, 16, 2, padding="same", bias=False), nn.ReLU(), nn.MaxPool2d(4, 4),
        nn.Flatten(), nn.Linear(16 * 2 * 2, classes),
    )


def run(case):
    """One case as bench/models.ts runs it: PyTorch as its users are told to (bench/pytorch_worker.py's
    harness: channels_last unless case["layout"] says "nchw", warmed up until a step's time settles,
    a fresh batch each step, inference_mode for predict), then `reps` steps timed one by one."""
    from pytorch_worker import setup  # beside this file; it imports the models above

    timed, _ = setup(case)
    seconds = timed(case["reps"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"system": "pytorch", **case, "seconds": seconds, "peakRssMiB": peak, "flopsPerImage": 0,
            "torch": torch.__version__, "torchThreads": torch.get_num_threads()}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
