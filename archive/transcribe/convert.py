"""Turn a CTranslate2 Whisper model folder into an openai-whisper checkpoint holding the same weights."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import struct
from pathlib import Path

import numpy as np
import torch

from archive.errors import ModelUnavailable
from archive.media.store import write_atomically

# The DataType ids of CTranslate2's model.bin (ctranslate2/specs/model_spec.py, _dtype_to_type_id).
_DTYPES = (torch.float32, torch.int8, torch.int16, torch.int32, torch.float16, torch.bfloat16)
# Versions 4-6 share one layout (a dtype id and a byte count per variable, then aliases); 1-3 stored item sizes,
# and a later version may change the layout, so both are refused rather than misread.
_BINARY_VERSIONS = range(4, 7)
_LAYER = re.compile(r"(encoder|decoder)/layer_(\d+)/")

Variables = dict[str, torch.Tensor]


def convert_ct2_to_whisper(ct2_dir: Path, out_path: Path) -> Path:
    """Write `out_path`: {"dims", "model_state_dict", "alignment_heads"}, loadable by `whisper.load_model(path)`."""
    ct2_dir, out_path = Path(ct2_dir), Path(out_path)
    variables = read_ct2_variables(ct2_dir / "model.bin")
    try:
        dims = _dimensions(variables)
        state = _state_dict(variables, dims)
    except KeyError as missing:
        raise ModelUnavailable(f"{ct2_dir} is not a CTranslate2 Whisper model: it has no variable {missing}") from None
    checkpoint: dict[str, object] = {"dims": dims, "model_state_dict": state}
    heads = _config(ct2_dir).get("alignment_heads")
    if heads:
        checkpoint["alignment_heads"] = encode_alignment_heads(heads, dims["n_text_layer"], dims["n_text_head"])
    _save_atomically(checkpoint, out_path)
    return out_path


def read_ct2_variables(model_bin: Path) -> Variables:
    """Every variable of a CTranslate2 Whisper model.bin by name, aliases resolved and int8/int16 dequantized."""
    if not model_bin.is_file():
        raise ModelUnavailable(f"{model_bin.parent} is not a CTranslate2 Whisper model: it has no model.bin")
    try:
        with model_bin.open("rb") as f:
            variables, aliases = _read_model_bin(f, model_bin)
        variables = _dequantize(variables)
        # after dequantizing: an alias names the weight alone, not its scale
        return variables | {alias: variables[target] for alias, target in aliases.items()}
    except (struct.error, UnicodeDecodeError, ValueError, RuntimeError, IndexError, KeyError) as error:
        raise ModelUnavailable(f"{model_bin} is not a readable CTranslate2 model ({error})") from None


def encode_alignment_heads(heads: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """[[layer, head], ...] in openai-whisper's form: base85 of the gzipped (n_layer, n_head) boolean mask."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    # mtime=0 so that the same model always gives the same checkpoint bytes
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def _read_model_bin(f: io.BufferedReader, path: Path) -> tuple[Variables, dict[str, str]]:
    # The layout is the writer's, ModelSpec._serialize: native (little-endian) integers, no padding.
    version = _unpack(f, "<I")
    if version not in _BINARY_VERSIONS:
        raise ModelUnavailable(f"{path} has CTranslate2 binary version {version}; this converter reads 4 to 6")
    spec = _string(f)
    _unpack(f, "<I")  # spec revision: the Whisper variables have kept their names through revisions 1-3
    if spec != "WhisperSpec":
        raise ModelUnavailable(f"{path.parent} is a CTranslate2 {spec!r} model, not Whisper")
    variables: Variables = {}
    for _ in range(_unpack(f, "<I")):
        name = _string(f)
        shape = [_unpack(f, "<I") for _ in range(_unpack(f, "<B"))]
        dtype = _DTYPES[_unpack(f, "<B")]
        size = _unpack(f, "<I")
        data = bytearray(size)  # writable, so torch.frombuffer shares it without a warning
        if f.readinto(data) != size:
            raise ValueError("truncated")
        variables[name] = torch.frombuffer(data, dtype=dtype).reshape(shape) if size else torch.empty(shape)
    # Aliases: variables equal to another, stored once (the decoder's output projection is the token embedding).
    aliases = {}
    for _ in range(_unpack(f, "<I")):
        alias = _string(f)
        aliases[alias] = _string(f)
    return variables, aliases


def _unpack(f: io.BufferedReader, fmt: str) -> int:
    size = struct.calcsize(fmt)
    return struct.unpack(fmt, f.read(size))[0]  # a short read raises struct.error: truncated file


def _string(f: io.BufferedReader) -> str:
    length = _unpack(f, "<H")  # counts the trailing NUL
    return f.read(length)[:-1].decode("utf-8")


def _dequantize(variables: Variables) -> Variables:
    # Quantized weights (int8, int16) come with `<name>_scale`: the writer stored rint(weight * scale), with
    # one scale per output row (per output channel for the convolutions) or, for int16, one in all.
    out: Variables = {}
    for name, value in variables.items():
        scale = variables.get(f"{name}_scale")
        if name.endswith("_scale") and name[: -len("_scale")] in variables:
            continue
        if scale is not None and value.dtype in (torch.int8, torch.int16):
            scale = scale.float()
            value = value.float() / scale.reshape(-1, *[1] * (value.dim() - 1))
        out[name] = value
    return out


def _config(ct2_dir: Path) -> dict:
    try:
        return json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no alignment heads then: whisper falls back to the decoder's second half, as CTranslate2 does


def _dimensions(v: Variables) -> dict[str, int]:
    conv1 = v["encoder/conv1/weight"]  # (n_audio_state, n_mels, 3)
    embeddings = v["decoder/embeddings/weight"]  # (n_vocab, n_text_state)
    layers: dict[str, set[int]] = {"encoder": set(), "decoder": set()}
    for name in v:
        if m := _LAYER.match(name):
            layers[m[1]].add(int(m[2]))
    return {
        "n_mels": conv1.shape[1],
        "n_audio_ctx": v["encoder/position_encodings/encodings"].shape[0],
        "n_audio_state": conv1.shape[0],
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": len(layers["encoder"]),
        "n_vocab": embeddings.shape[0],
        "n_text_ctx": v["decoder/position_encodings/encodings"].shape[0],
        "n_text_state": embeddings.shape[1],
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": len(layers["decoder"]),
    }


def _state_dict(v: Variables, dims: dict[str, int]) -> dict[str, torch.Tensor]:
    """openai-whisper's parameter names for CTranslate2's; load_state_dict is strict, so none may be missing."""
    projection = v.get("decoder/projection/weight")
    if projection is not None and not torch.equal(projection, v["decoder/embeddings/weight"]):
        # whisper computes logits with the token embedding; an untied projection has nowhere to go
        raise ModelUnavailable("this CTranslate2 Whisper model has an output projection apart from its embeddings")
    state = {
        "encoder.conv1.weight": v["encoder/conv1/weight"],
        "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"],
        "encoder.conv2.bias": v["encoder/conv2/bias"],
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        **_layer_norm(v, "encoder/layer_norm", "encoder.ln_post"),
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        **_layer_norm(v, "decoder/layer_norm", "decoder.ln"),
    }
    for side, n_layer in (("encoder", dims["n_audio_layer"]), ("decoder", dims["n_text_layer"])):
        for i in range(n_layer):
            src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            state |= _layer_norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
            state |= _split(v, f"{src}/self_attention/linear_0", [f"{dst}.attn.{p}" for p in ("query", "key", "value")])
            state |= _linear(v, f"{src}/self_attention/linear_1", f"{dst}.attn.out")
            if side == "decoder":
                state |= _layer_norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
                state |= _linear(v, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
                state |= _split(v, f"{src}/attention/linear_1", [f"{dst}.cross_attn.{p}" for p in ("key", "value")])
                state |= _linear(v, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
            state |= _layer_norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
            state |= _linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
            state |= _linear(v, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    # float16 stays float16 (as OpenAI ships its checkpoints, and lossless here); anything else becomes float32
    return {k: t.contiguous() if t.dtype == torch.float16 else t.float().contiguous() for k, t in state.items()}


def _layer_norm(v: Variables, src: str, dst: str) -> dict[str, torch.Tensor]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _linear(v: Variables, src: str, dst: str) -> dict[str, torch.Tensor]:
    return {f"{dst}.weight": v[f"{src}/weight"], f"{dst}.bias": v[f"{src}/bias"]}


def _split(v: Variables, src: str, dsts: list[str]) -> dict[str, torch.Tensor]:
    """Undo CTranslate2's fusion of the q/k/v (or k/v) projections: rows are stacked in that order."""
    out: dict[str, torch.Tensor] = {}
    weights, biases = v[f"{src}/weight"].chunk(len(dsts)), v[f"{src}/bias"].chunk(len(dsts))
    for dst, weight, bias in zip(dsts, weights, biases, strict=True):
        out[f"{dst}.weight"] = weight
        # whisper's key projection has no bias; CTranslate2 stores zeros there, and any key bias would add
        # the same q·b to every score of a query, which softmax cancels, so dropping it is exact either way
        if not dst.endswith(".key"):
            out[f"{dst}.bias"] = bias
    return out


def _save_atomically(checkpoint: dict, out_path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    write_atomically(out_path, buffer.getvalue())
