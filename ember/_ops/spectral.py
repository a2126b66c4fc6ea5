"""torch.stft / torch.istft (short-time Fourier transform and its inverse) and torch.gradient, built
from differentiable ops (unfold, fft, fold), so gradients flow through them."""
import warnings

from .._tensor import Tensor
from ._util import install, wrap_dim

__all__ = ["stft", "istft", "gradient"]


def _window_of(window, win_length, n_fft, like):
    """The analysis window, zero-padded on both sides to n_fft (torch centres it)."""
    from .creation import ones
    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    if window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    left = (n_fft - win_length) // 2
    if left or n_fft != win_length:
        from ..nn.functional import pad
        window = pad(window, (left, n_fft - win_length - left))
    return window


def _lengths(n_fft, hop_length, win_length, name):
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    return hop_length, win_length


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None):
    from .. import fft
    if return_complex is None and not input.is_complex() and (window is None or not window.is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "stft")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    if center:
        from ..nn.functional import pad
        x = pad(x.unsqueeze(1), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(1)
    if x.shape[-1] < n_fft:
        raise RuntimeError(f"stft: expected 0 < n_fft < {x.shape[-1]}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length) * _window_of(window, win_length, n_fft, input)
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    onesided = (not complex_input) if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    spec = fft.rfft(frames, dim=-1, norm=norm) if onesided else fft.fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)
    if not batched:
        spec = spec.squeeze(0)
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.")
        from .complex import view_as_real
        return view_as_real(spec.contiguous())
    return spec


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    from .. import fft
    from ..nn.functional import fold
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor.")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "istft")
    batched = input.dim() == 3
    spec = input if batched else input.unsqueeze(0)
    n_frames = spec.shape[-1]
    onesided = (spec.shape[-2] != n_fft) if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    spec = spec.transpose(-1, -2)
    if return_complex:
        if onesided:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = fft.ifft(spec, n=n_fft, dim=-1, norm=norm)
    else:  # a real signal: the first n_fft//2 + 1 bins define it (torch drops the others)
        if not onesided:
            spec = spec.narrow(-1, 0, n_fft // 2 + 1)
        frames = fft.irfft(spec, n=n_fft, dim=-1, norm=norm)
    win = _window_of(window, win_length, n_fft, frames)
    frames = frames * win
    total = n_fft + hop_length * (n_frames - 1)
    # overlap-add of frames and of the squared window (the normalising envelope), as one fold each
    signal = _overlap_add(fold, frames, total, n_fft, hop_length)
    envelope = _overlap_add(fold, (win * win).expand(1, n_frames, n_fft), total, n_fft, hop_length)
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center else total
    if length is not None:
        end = start + length
    signal, envelope = signal[..., start:end], envelope[..., start:min(end, total)]
    if float(envelope.abs().min()) < 1e-11:
        raise RuntimeError("istft(): window overlap add min: " + f"{float(envelope.abs().min())}")
    if signal.shape[-1] > envelope.shape[-1]:  # length beyond the signal: zero-padded, as torch does
        from ..nn.functional import pad
        signal = pad(signal[..., :envelope.shape[-1]] / envelope, (0, signal.shape[-1] - envelope.shape[-1]))
    else:
        signal = signal / envelope
    return signal if batched else signal.squeeze(0)


def _overlap_add(fold, frames, total, n_fft, hop):
    if frames.is_complex():
        from .complex import complex as make_complex
        return make_complex(_overlap_add(fold, frames.real, total, n_fft, hop),
                            _overlap_add(fold, frames.imag, total, n_fft, hop))
    cols = frames.transpose(-1, -2)  # (B, n_fft, n_frames)
    return fold(cols, output_size=(1, total), kernel_size=(1, n_fft), stride=(1, hop)).reshape(
        frames.shape[0], total)


# ---------------------------------------------------------------- torch.gradient
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimated derivative along each dim: central differences inside (second-order accurate, also on
    uneven coordinates), first- or second-order one-sided differences at the edges."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [wrap_dim(d, input.dim()) for d in dims]
    if isinstance(spacing, (int, float)) or isinstance(spacing, Tensor) and spacing.dim() == 0:
        spacing = [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacing)} and a dim argument of length {len(dims)}.")
    out = []
    for d, h in zip(dims, spacing):
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        out.append(_gradient_along(input, d, h, edge_order))
    return tuple(out)


def _gradient_along(f, d, h, edge_order):
    n = f.shape[d]

    def part(start, stop):
        return f.narrow(d, start, stop - start)

    def along(t):  # a 1-d coordinate difference broadcast along dim d
        return t.reshape([-1 if i == d else 1 for i in range(f.dim())])

    if isinstance(h, Tensor) and h.dim() == 1:
        x = h.to(f.dtype) if f.is_floating_point() else h
        dx = x[1:] - x[:-1]
        hl, hr = along(dx[:-1]), along(dx[1:])
        interior = (hl * hl * part(2, n) - hr * hr * part(0, n - 2) + (hr * hr - hl * hl) * part(1, n - 1)) / (
            hl * hr * (hl + hr))
        h0, h1, hn1, hn2 = dx[0], dx[1] if n > 2 else dx[0], dx[-1], dx[-2] if n > 2 else dx[-1]
    else:
        h = float(h.item() if isinstance(h, Tensor) else h)
        interior = (part(2, n) - part(0, n - 2)) / (2 * h)
        h0 = h1 = hn1 = hn2 = h
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / h0
        last = (part(n - 1, n) - part(n - 2, n - 1)) / hn1
    else:
        a = -(2 * h0 + h1) / (h0 * (h0 + h1))
        b = (h0 + h1) / (h0 * h1)
        c = -h0 / (h1 * (h0 + h1))
        first = a * part(0, 1) + b * part(1, 2) + c * part(2, 3)
        a = hn1 / (hn2 * (hn1 + hn2))
        b = -(hn1 + hn2) / (hn1 * hn2)
        c = (2 * hn1 + hn2) / (hn1 * (hn1 + hn2))
        last = a * part(n - 3, n - 2) + b * part(n - 2, n - 1) + c * part(n - 1, n)
    from .shape import cat
    if not f.is_floating_point() and not f.is_complex():
        interior, first, last = (t.float() if not t.is_floating_point() else t for t in (interior, first, last))
    return cat([first, interior, last], d) if n > 2 else cat([first, last], d)


install(stft=stft, istft=istft)
