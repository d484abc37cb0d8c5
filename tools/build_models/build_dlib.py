"""Rebuild face-api's FaceRecognitionNet (dlib ResNet, 128-d) as ONNX, without TensorFlow.

Source: @vladmandic/face-api model/face_recognition_model-weights_manifest.json + shards
(uint8-quantised, value = q * scale + min). The topology mirrors face-api's TypeScript
(src/faceRecognitionNet/*.ts):

  x = (image - meanRgb) / 255                      meanRgb = (122.782, 117.001, 104.298)
  convDown(conv32_down)                            7x7 stride 2 VALID, +bias, *scale.w + scale.b, ReLU
  maxPool 3x3 stride 2 VALID
  residual x3 (conv32_*), residualDown(conv64_down), residual x3, residualDown(conv128_down),
  residual x2, residualDown(conv256_down), residual x2, residualDown(conv256_down_out)
  mean over H,W; MatMul fc                         -> [N,128], not normalised

Interface: input `image` float32 [N,150,150,3] NHWC RGB 0..255; output `embedding` float32 [N,128].

Conv bias and the affine "scale" layer are folded into the conv weights (float64 fold, then float32):
conv(x, W) + b, then * s + t  ==  conv(x, W * s) + (b * s + t).

Usage: python build_dlib.py <face-api package dir> <output.onnx>
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN_RGB = (122.782, 117.001, 104.298)
INPUT_SIZE = 150
OPSET = 13


def load_weights(pkg_dir):
    model_dir = os.path.join(pkg_dir, "model")
    with open(os.path.join(model_dir, "face_recognition_model-weights_manifest.json")) as f:
        manifest = json.load(f)
    weights = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q:
                assert q["dtype"] == "uint8", q
                raw = np.frombuffer(buf, dtype=np.uint8, count=n, offset=off)
                off += n
                # as tfjs-core io.decodeWeights: float32(q * scale + min), computed in double
                val = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            else:
                assert w["dtype"] == "float32", w
                val = np.frombuffer(buf, dtype=np.float32, count=n, offset=off).copy()
                off += 4 * n
            weights[w["name"]] = val.reshape(w["shape"])
        assert off == len(buf), (off, len(buf))
    return weights


class Builder:
    def __init__(self, weights):
        self.w = weights
        self.nodes = []
        self.inits = []
        self.n = 0
        self.used = set()

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def get(self, key):
        self.used.add(key)
        return self.w[key]

    def conv_layer(self, x, prefix, stride, relu, padding):
        """face-api convLayer: conv2d + bias, * scale.weights + scale.biases, optional ReLU."""
        f = self.get(f"{prefix}/conv/filters").astype(np.float64)  # HWIO
        b = self.get(f"{prefix}/conv/bias").astype(np.float64)
        s = self.get(f"{prefix}/scale/weights").astype(np.float64)
        t = self.get(f"{prefix}/scale/biases").astype(np.float64)
        kh, kw = f.shape[0], f.shape[1]
        w_oihw = np.transpose(f * s, (3, 2, 0, 1)).astype(np.float32)
        bias = (b * s + t).astype(np.float32)
        if padding == "same":
            # TF SAME, stride 1, odd kernel: symmetric (k-1)/2 on each side
            assert stride == 1 and kh % 2 == 1 and kw % 2 == 1
            pads = [(kh - 1) // 2, (kw - 1) // 2, (kh - 1) // 2, (kw - 1) // 2]
        else:
            pads = [0, 0, 0, 0]
        wn = self.const(prefix.replace("/", "_") + "_W", w_oihw)
        bn = self.const(prefix.replace("/", "_") + "_B", bias)
        y = self.node("Conv", [x, wn, bn], prefix.replace("/", "_"),
                      kernel_shape=[kh, kw], strides=[stride, stride], pads=pads)
        if relu:
            y = self.node("Relu", [y], prefix.replace("/", "_") + "_relu")
        return y

    def residual(self, x, prefix):
        out = self.conv_layer(x, f"{prefix}/conv1", 1, True, "same")
        out = self.conv_layer(out, f"{prefix}/conv2", 1, False, "same")
        out = self.node("Add", [out, x], f"{prefix}_add")
        return self.node("Relu", [out], f"{prefix}_relu")

    def residual_down(self, x, prefix, in_hw, in_c):
        out = self.conv_layer(x, f"{prefix}/conv1", 2, True, "valid")
        out = self.conv_layer(out, f"{prefix}/conv2", 1, False, "same")
        out_c = self.w[f"{prefix}/conv2/conv/filters"].shape[3]
        conv_hw = (in_hw - 3) // 2 + 1
        pool_hw = in_hw // 2
        pooled = self.node("AveragePool", [x], f"{prefix}_avgpool", kernel_shape=[2, 2], strides=[2, 2])
        if conv_hw != pool_hw:
            # face-api concatenates one zero row (bottom) then one zero column (right)
            assert pool_hw == conv_hw + 1
            pads = self.const(f"{prefix}_hwpads", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))
            out = self.node("Pad", [out, pads], f"{prefix}_padhw", mode="constant")
        if out_c != in_c:
            # face-api concatenates zeros of the pooled shape after the pooled channels
            assert out_c == 2 * in_c
            pads = self.const(f"{prefix}_cpads", np.array([0, 0, 0, 0, 0, out_c - in_c, 0, 0], np.int64))
            pooled = self.node("Pad", [pooled, pads], f"{prefix}_padc", mode="constant")
        out = self.node("Add", [pooled, out], f"{prefix}_add")
        return self.node("Relu", [out], f"{prefix}_relu"), pool_hw, out_c


def build(pkg_dir):
    w = load_weights(pkg_dir)
    b = Builder(w)
    mean = b.const("mean_rgb", np.array(MEAN_RGB, np.float32).reshape(1, 1, 1, 3))
    div = b.const("div255", np.array(255.0, np.float32))
    x = b.node("Sub", ["image", mean], "sub_mean")
    x = b.node("Div", [x, div], "div_255")
    x = b.node("Transpose", [x], "nhwc_to_nchw", perm=[0, 3, 1, 2])

    x = b.conv_layer(x, "conv32_down", 2, True, "valid")
    hw = (INPUT_SIZE - 7) // 2 + 1  # 72
    x = b.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    hw = (hw - 3) // 2 + 1  # 35
    c = 32
    for p in ("conv32_1", "conv32_2", "conv32_3"):
        x = b.residual(x, p)
    x, hw, c = b.residual_down(x, "conv64_down", hw, c)
    for p in ("conv64_1", "conv64_2", "conv64_3"):
        x = b.residual(x, p)
    x, hw, c = b.residual_down(x, "conv128_down", hw, c)
    for p in ("conv128_1", "conv128_2"):
        x = b.residual(x, p)
    x, hw, c = b.residual_down(x, "conv256_down", hw, c)
    for p in ("conv256_1", "conv256_2"):
        x = b.residual(x, p)
    x, hw, c = b.residual_down(x, "conv256_down_out", hw, c)
    x = b.node("ReduceMean", [x], "global_avg", axes=[2, 3], keepdims=0)
    fc = b.const("fc", b.get("fc").astype(np.float32))
    b.nodes.append(helper.make_node("MatMul", [x, fc], ["embedding"], name="fc_matmul"))

    unused = set(w) - b.used
    assert not unused, unused

    graph = helper.make_graph(
        b.nodes, "face_api_recognition_dlib_resnet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="hadir tools/build_models/build_dlib.py")
    model.ir_version = 8
    model.doc_string = ("face-api (vladmandic) FaceRecognitionNet = dlib ResNet face descriptor. "
                        "Input image float32 [N,150,150,3] NHWC RGB 0..255; output embedding [N,128] "
                        "(not normalised). Mean subtraction and /255 are inside the graph.")
    onnx.checker.check_model(model, full_check=True)
    return model


if __name__ == "__main__":
    pkg, out = sys.argv[1], sys.argv[2]
    m = build(pkg)
    onnx.save(m, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
