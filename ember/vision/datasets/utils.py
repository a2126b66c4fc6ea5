"""File helpers shared by the dataset loaders: finding files, gzip, downloads that explain themselves."""
import gzip
import hashlib
import os
import urllib.error
import urllib.request


def open_maybe_gz(path):
    """The bytes of ``path``, gunzipped when it ends in .gz; a RuntimeError naming the file when it is damaged."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise RuntimeError(f"Could not read {path}: the file is corrupt or truncated ({e})") from None


def find_file(folder, name):
    """``folder/name`` or ``folder/name.gz``, whichever exists, else None."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def md5(path, chunk=1 << 20):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download_or_explain(dataset, folder, resources, timeout=15):
    """Fetch (url, filename, md5) resources into folder; with no network, say exactly what to put where.

    ``resources`` lists (url, filename, md5 or None). Files already present are kept.
    """
    os.makedirs(folder, exist_ok=True)
    missing = [(url, name, digest) for url, name, digest in resources
               if not os.path.isfile(os.path.join(folder, name))]
    for url, name, digest in missing:
        target = os.path.join(folder, name)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(target + ".part", "wb") as out:
                while True:
                    block = response.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
        except (urllib.error.URLError, OSError, ValueError) as e:
            if os.path.exists(target + ".part"):
                os.remove(target + ".part")
            wanted = "\n".join(f"  {os.path.join(folder, n)}   (from {u})" for u, n, _ in missing)
            raise RuntimeError(f"{dataset}: could not download {url} ({e}). Without network access, place these "
                               f"files yourself:\n{wanted}") from None
        if digest is not None and md5(target + ".part") != digest:
            os.remove(target + ".part")
            raise RuntimeError(f"{dataset}: {url} downloaded with a wrong checksum; place {target} by hand")
        os.replace(target + ".part", target)


def not_found(dataset, folder, names):
    """The error for a dataset whose files are absent and download=False."""
    listing = "\n".join(f"  {os.path.join(folder, n)}" for n in names)
    return RuntimeError(f"Dataset not found. You can use download=True to download it. {dataset} expects "
                        f"these files (optionally gzipped, .gz):\n{listing}")
