#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generates the AI workloads' models from fixed seeds (weights random, seeded, untrained).

Writes into OUTDIR:
  mobilenetv2.onnx         an image classifier of MobileNetV2 shape (inverted residual blocks,
                           depthwise convolutions, ReLU6), 1x3xRxR float input, 1000 logits
  mobilenetv2-input.bin    the seeded input image, raw little-endian float32, NCHW
  tinyllama.onnx           a llama-style decoder-only transformer (RMSNorm, learned positions,
                           multi-head attention, SwiGLU, untied classifier) as one decode step
                           with a KV cache (see llama_onnx)
  tinyllama.bin            the same weights for the dependency-free C decoder (format below)
  reference.json           expected outputs computed here with numpy (and the onnx reference
                           evaluator for the classifier), checked against the manifests

tinyllama.bin: magic "RVBTLM1\\0", then 6 little-endian int32 (dim, hidden, layers, heads, vocab,
max_seq), then float32 arrays: tok_emb[vocab][dim], pos_emb[max_seq][dim], for each layer:
attn_norm[dim], wq[dim][dim], wk[dim][dim], wv[dim][dim], wo[dim][dim], ffn_norm[dim],
w1[dim][hidden], w3[dim][hidden], w2[hidden][dim]; then final_norm[dim] and
classifier[dim][vocab]. Matrices are [in][out] (y = x W).
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17        # ONNX Runtime 1.21 supports opsets up to 22
IR_VERSION = 9    # what ONNX Runtime 1.21 reads (onnx >= 1.17 writes 10 by default)
EPS = 1e-5

LLAMA = dict(dim=64, hidden=172, layers=5, heads=8, vocab=512, max_seq=256, seed=260)
MOBILENET = dict(resolution=96, alpha=0.5, classes=1000, seed=2)
BOS = 1


def finish_model(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="rvbench-gen-models")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


# ----------------------------------------------------------------- tinyllama --

def llama_weights(cfg):
    rng = np.random.default_rng(cfg["seed"])
    d, h, v, t = cfg["dim"], cfg["hidden"], cfg["vocab"], cfg["max_seq"]

    def lin(n_in, n_out):
        return (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)

    w = {"tok_emb": rng.standard_normal((v, d)).astype(np.float32),
         "pos_emb": (0.5 * rng.standard_normal((t, d))).astype(np.float32),
         "layers": []}
    for _ in range(cfg["layers"]):
        w["layers"].append({
            "attn_norm": (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32),
            "wq": lin(d, d), "wk": lin(d, d), "wv": lin(d, d), "wo": lin(d, d),
            "ffn_norm": (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32),
            "w1": lin(d, h), "w3": lin(d, h), "w2": lin(h, d),
        })
    w["final_norm"] = (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)
    w["classifier"] = (2.0 * lin(d, v)).astype(np.float32)
    return w


def llama_param_count(cfg):
    d, h = cfg["dim"], cfg["hidden"]
    per_layer = 2 * d + 4 * d * d + 3 * d * h
    return 2 * cfg["vocab"] * d + cfg["max_seq"] * d + cfg["layers"] * per_layer + d


def write_llama_bin(path, cfg, w):
    with open(path, "wb") as f:
        f.write(b"RVBTLM1\0")
        f.write(struct.pack("<6i", cfg["dim"], cfg["hidden"], cfg["layers"], cfg["heads"],
                            cfg["vocab"], cfg["max_seq"]))
        f.write(w["tok_emb"].tobytes())
        f.write(w["pos_emb"].tobytes())
        for lw in w["layers"]:
            for k in ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w3", "w2"):
                f.write(np.ascontiguousarray(lw[k], dtype="<f4").tobytes())
        f.write(w["final_norm"].tobytes())
        f.write(w["classifier"].tobytes())


def llama_onnx(cfg, w):
    """One decode step with a KV cache: token [1,1], position [1] and each layer's past keys and
    values [1,H,P,hd] in; logits [1,1,V] and the present keys and values [1,H,P+1,hd] out."""
    d, nh = cfg["dim"], cfg["heads"]
    hd = d // nh
    nodes, inits = [], []
    inputs = [helper.make_tensor_value_info("token", TensorProto.INT64, [1, 1]),
              helper.make_tensor_value_info("position", TensorProto.INT64, [1])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, cfg["vocab"]])]

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def rmsnorm(x, weight, name):
        sq = node("Mul", [x, x], name + "_sq")
        ms = node("ReduceMean", [sq], name + "_ms", axes=[-1], keepdims=1)
        eps = node("Add", [ms, "eps"], name + "_eps")
        rs = node("Sqrt", [eps], name + "_rs")
        inv = node("Reciprocal", [rs], name + "_inv")
        xn = node("Mul", [x, inv], name + "_xn")
        return node("Mul", [xn, weight], name)

    init("eps", np.array(EPS, dtype=np.float32))
    init("tok_emb", w["tok_emb"])
    init("pos_emb", w["pos_emb"])
    init("shape_heads", np.array([1, 1, nh, hd], dtype=np.int64))
    init("shape_model", np.array([1, 1, d], dtype=np.int64))
    init("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))

    emb = node("Gather", ["tok_emb", "token"], "emb", axis=0)
    pos = node("Gather", ["pos_emb", "position"], "pos", axis=0)
    x = node("Add", [emb, pos], "x0")
    for i, lw in enumerate(w["layers"]):
        p = f"l{i}_"
        for k in ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w3", "w2"):
            init(p + k, lw[k])
        for kv in ("k", "v"):
            inputs.append(helper.make_tensor_value_info(f"past_{kv}{i}", TensorProto.FLOAT, [1, nh, "P", hd]))
            outputs.append(helper.make_tensor_value_info(f"present_{kv}{i}", TensorProto.FLOAT, [1, nh, "P1", hd]))
        h = rmsnorm(x, p + "attn_norm", p + "attn_in")
        heads = {}
        for kv in ("q", "k", "v"):
            lin = node("MatMul", [h, p + "w" + kv], p + kv + "_lin")
            heads[kv] = node("Transpose", [node("Reshape", [lin, "shape_heads"], p + kv + "_heads")],
                             p + kv, perm=[0, 2, 1, 3])
        kall = node("Concat", [f"past_k{i}", heads["k"]], f"present_k{i}", axis=2)
        vall = node("Concat", [f"past_v{i}", heads["v"]], f"present_v{i}", axis=2)
        kt = node("Transpose", [kall], p + "kt", perm=[0, 1, 3, 2])
        s = node("Mul", [node("MatMul", [heads["q"], kt], p + "qk"), "scale"], p + "scores")
        a = node("Softmax", [s], p + "attn", axis=-1)
        o = node("Transpose", [node("MatMul", [a, vall], p + "ctx")], p + "ctx_t", perm=[0, 2, 1, 3])
        o = node("MatMul", [node("Reshape", [o, "shape_model"], p + "ctx_m"), p + "wo"], p + "attn_out")
        x = node("Add", [x, o], p + "x_attn")
        h = rmsnorm(x, p + "ffn_norm", p + "ffn_in")
        g = node("MatMul", [h, p + "w1"], p + "gate")
        g = node("Mul", [g, node("Sigmoid", [g], p + "gate_sig")], p + "gate_silu")
        u = node("MatMul", [h, p + "w3"], p + "up")
        f = node("MatMul", [node("Mul", [g, u], p + "swiglu"), p + "w2"], p + "ffn_out")
        x = node("Add", [x, f], p + "x_ffn")

    init("final_norm", w["final_norm"])
    init("classifier", w["classifier"])
    xn = rmsnorm(x, "final_norm", "x_norm")
    node("MatMul", [xn, "classifier"], "logits")
    return finish_model(helper.make_graph(nodes, "tinyllama", inputs, outputs, inits))


def llama_reference(cfg, w, steps):
    """Greedy decode with a KV cache in float32 numpy: the same math as the ONNX graph."""
    d, nh = cfg["dim"], cfg["heads"]
    hd = d // nh

    def rms(x, g):
        return (x / np.sqrt(np.mean(x * x, dtype=np.float32) + np.float32(EPS))) * g

    kc = [np.zeros((cfg["max_seq"], d), np.float32) for _ in w["layers"]]
    vc = [np.zeros((cfg["max_seq"], d), np.float32) for _ in w["layers"]]
    tokens, margins = [BOS], []
    for pos in range(steps):
        x = w["tok_emb"][tokens[-1]] + w["pos_emb"][pos]
        for li, lw in enumerate(w["layers"]):
            h = rms(x, lw["attn_norm"])
            q, kc[li][pos], vc[li][pos] = h @ lw["wq"], h @ lw["wk"], h @ lw["wv"]
            out = np.zeros(d, np.float32)
            for hh in range(nh):
                sl = slice(hh * hd, (hh + 1) * hd)
                s = (kc[li][: pos + 1, sl] @ q[sl]) * np.float32(1.0 / np.sqrt(hd))
                e = np.exp(s - s.max())
                out[sl] = (e / e.sum()) @ vc[li][: pos + 1, sl]
            x = x + out @ lw["wo"]
            h = rms(x, lw["ffn_norm"])
            g = h @ lw["w1"]
            x = x + ((g / (1 + np.exp(-g))) * (h @ lw["w3"])) @ lw["w2"]
        logits = rms(x, w["final_norm"]) @ w["classifier"]
        order = np.argsort(logits)
        margins.append(float(logits[order[-1]] - logits[order[-2]]))
        tokens.append(int(order[-1]))
    return tokens[1:], margins


def token_checksum(tokens):
    """FNV-1a 64 over the generated token ids (each as 4 little-endian bytes): the C code does the same."""
    h = 0xcbf29ce484222325
    for t in tokens:
        for b in struct.pack("<I", t):
            h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# ---------------------------------------------------------------- mobilenet --

def mobilenet_onnx(cfg):
    rng = np.random.default_rng(cfg["seed"])
    alpha, res = cfg["alpha"], cfg["resolution"]
    nodes, inits = [], []
    counter = [0]

    def ch(c):
        v = max(8, int(c * alpha + 4) // 8 * 8)
        return v + 8 if v < 0.9 * c * alpha else v

    def conv(x, c_in, c_out, k, stride, groups, act, name):
        fan_in = c_in // groups * k * k
        wt = (rng.standard_normal((c_out, c_in // groups, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (0.01 * rng.standard_normal(c_out)).astype(np.float32)
        inits.append(numpy_helper.from_array(wt, name + "_w"))
        inits.append(numpy_helper.from_array(b, name + "_b"))
        pad = k // 2
        nodes.append(helper.make_node("Conv", [x, name + "_w", name + "_b"], [name + "_conv"], name=name + "_conv",
                                      kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups))
        out = name + "_conv"
        if act:
            nodes.append(helper.make_node("Clip", [out, "zero_f", "six_f"], [name], name=name))
            out = name
        return out

    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero_f"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "six_f"))
    c = ch(32)
    x = conv("image", 3, c, 3, 2, 1, True, "stem")
    blocks = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    for t, cc, n, s in blocks:
        c_out = ch(cc)
        for i in range(n):
            counter[0] += 1
            name = f"b{counter[0]}"
            stride = s if i == 0 else 1
            hidden = c * t
            y = x
            if t != 1:
                y = conv(y, c, hidden, 1, 1, 1, True, name + "_expand")
            y = conv(y, hidden, hidden, 3, stride, hidden, True, name + "_dw")
            y = conv(y, hidden, c_out, 1, 1, 1, False, name + "_project")
            if stride == 1 and c == c_out:
                nodes.append(helper.make_node("Add", [x, y], [name + "_add"], name=name + "_add"))
                y = name + "_add"
            x, c = y, c_out
    last = 1280 if alpha <= 1.0 else ch(1280)
    x = conv(x, c, last, 1, 1, 1, True, "head")
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flat", axis=1))
    wfc = (rng.standard_normal((cfg["classes"], last)) * np.sqrt(1.0 / last)).astype(np.float32)
    bfc = (0.01 * rng.standard_normal(cfg["classes"])).astype(np.float32)
    inits.append(numpy_helper.from_array(wfc, "fc_w"))
    inits.append(numpy_helper.from_array(bfc, "fc_b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        nodes, "mobilenetv2",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, res, res])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, cfg["classes"]])],
        inits)
    image = np.random.default_rng(cfg["seed"] + 1000).random((1, 3, res, res), dtype=np.float32)
    return finish_model(graph), image


def onnx_macs(model):
    """Multiply-accumulates of Conv and Gemm nodes, from inferred shapes."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {vi.name: [dd.dim_value for dd in vi.type.tensor_type.shape.dim]
              for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    macs = 0
    for n in model.graph.node:
        if n.op_type == "Conv":
            w = inits[n.input[1]]
            out = shapes[n.output[0]]
            macs += int(np.prod(out)) * w[1] * w[2] * w[3]
        elif n.op_type == "Gemm":
            w = inits[n.input[1]]
            macs += w[0] * w[1]
    return macs


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--steps", type=int, default=64, help="tokens generated in the reference decode")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    ref = {"generator": {"onnx": onnx.__version__, "numpy": np.__version__, "opset": OPSET, "ir_version": IR_VERSION}}

    w = llama_weights(LLAMA)
    write_llama_bin(os.path.join(args.outdir, "tinyllama.bin"), LLAMA, w)
    onnx.save(llama_onnx(LLAMA, w), os.path.join(args.outdir, "tinyllama.onnx"))
    tokens, margins = llama_reference(LLAMA, w, args.steps)
    ref["tinyllama"] = {
        "config": LLAMA, "parameters": llama_param_count(LLAMA), "bos": BOS, "steps": args.steps,
        "tokens": tokens, "checksum": token_checksum(tokens), "min_top2_margin": min(margins),
        "onnx_sha256": sha256_file(os.path.join(args.outdir, "tinyllama.onnx")),
        "bin_sha256": sha256_file(os.path.join(args.outdir, "tinyllama.bin")),
    }

    model, image = mobilenet_onnx(MOBILENET)
    mpath = os.path.join(args.outdir, "mobilenetv2.onnx")
    onnx.save(model, mpath)
    image.astype("<f4").tofile(os.path.join(args.outdir, "mobilenetv2-input.bin"))
    from onnx.reference import ReferenceEvaluator
    logits = ReferenceEvaluator(model).run(None, {"image": image})[0].reshape(-1).astype(np.float64)
    order = np.argsort(logits)
    ref["mobilenetv2"] = {
        "config": MOBILENET, "parameters": int(sum(np.prod(i.dims) for i in model.graph.initializer)),
        "macs": onnx_macs(model), "argmax": int(order[-1]),
        "top2_margin": float(logits[order[-1]] - logits[order[-2]]),
        "sum": float(logits.sum()), "l2": float(np.sqrt((logits ** 2).sum())), "std": float(logits.std()),
        "onnx_sha256": sha256_file(mpath),
    }
    if ref["mobilenetv2"]["std"] < 1e-3 or ref["mobilenetv2"]["top2_margin"] < 1e-4:
        sys.exit("gen_models: the classifier's logits are degenerate; pick another seed")
    with open(os.path.join(args.outdir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "tokens"} for k, v in ref.items()}, indent=1))


if __name__ == "__main__":
    main()
