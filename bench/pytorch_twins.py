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


def make_divisible(v, divisor=8):
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded


class InvertedResidual(nn.Module):
    """MobileNetV2's block as Keras builds it: expand 1x1 (not in block 0), depthwise 3x3
    (stride 2 pads one row/column more at the end, as Keras's correct_pad and "valid" do),
    project 1x1, the input added back when the shapes agree."""

    def __init__(self, cin, filters, stride, expansion, alpha):
        super().__init__()
        cout = make_divisible(int(filters * alpha), 8)
        mid = cin * expansion
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-3, momentum=0.001)
        layers = [nn.Conv2d(cin, mid, 1, bias=False), bn(mid), nn.ReLU6()] if expansion != 1 else []
        pad = (0, 1, 0, 1) if stride == 2 else (1, 1, 1, 1)
        layers += [nn.ZeroPad2d(pad), nn.Conv2d(mid, mid, 3, stride, groups=mid, bias=False), bn(mid), nn.ReLU6(),
                   nn.Conv2d(mid, cout, 1, bias=False), bn(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = cin == cout and stride == 1
        self.cout = cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def mobilenetv2(classes=6, alpha=1.0):
    """Keras applications' MobileNetV2 (torchvision is not needed)."""
    first = make_divisible(32 * alpha, 8)
    layers = [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, first, 3, 2, bias=False), nn.BatchNorm2d(first, eps=1e-3, momentum=0.001), nn.ReLU6()]
    cin = first
    for filters, stride, expansion in [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
                                       (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
                                       (320, 1, 6)]:
        block = InvertedResidual(cin, filters, stride, expansion, alpha)
        layers.append(block)
        cin = block.cout
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last, eps=1e-3, momentum=0.001), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, classes)]
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
