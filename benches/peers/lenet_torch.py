"""One training epoch of Caffe's LeNet in PyTorch on MNIST, the speed anchor for
`rks deep-fried --arch lenet` (docs/benchmarks.md, "LeNet epoch").

    python benches/peers/lenet_torch.py datasets/mnist [--threads 2] [--epochs 1]

conv 20@5x5, max-pool 2, conv 50@5x5, max-pool 2, FC 500, ReLU, FC 10; SGD with momentum 0.9,
learning rate 0.01, weight decay 5e-4, batch 64, f32, pixels scaled by 1/256 (as Caffe's LeNet).
Prints one JSON line per epoch: seconds, training loss, test accuracy.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def find(dir_, name):
    plain = os.path.join(dir_, name)
    return plain if os.path.exists(plain) else plain + ".gz"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    load = lambda n: read_idx(find(args.dir, n))
    x_train = torch.tensor(load("train-images-idx3-ubyte"), dtype=torch.float32).unsqueeze(1) / 256
    y_train = torch.tensor(load("train-labels-idx1-ubyte"), dtype=torch.long)
    x_test = torch.tensor(load("t10k-images-idx3-ubyte"), dtype=torch.float32).unsqueeze(1) / 256
    y_test = torch.tensor(load("t10k-labels-idx1-ubyte"), dtype=torch.long)
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(y_train))
        start = time.perf_counter()
        cpu0 = time.process_time()
        total = 0.0
        net.train()
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            opt.zero_grad()
            loss = loss_fn(net(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        net.eval()
        with torch.no_grad():
            acc = (net(x_test).argmax(1) == y_test).float().mean().item()
        print(json.dumps({"epoch": epoch, "seconds": seconds, "cpu_seconds": cpu,
                          "train_loss": total / len(order), "test_accuracy": acc,
                          "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
