"""A persistent XLA compilation cache for the command lines, the figures and the tests.

Why: most of the wall time of ``python -m paper_checks --quick``, ``python -m figures --quick``
and the test suite is XLA compiling the same programs again in every new process (a 2-core
CPU spends 0.1–2 s on each of several hundred programs). JAX can keep the compiled programs
on disk and load them in the next process instead; :func:`configure` turns that on.

Nothing happens at import: importing this module leaves ``jax.config`` as it was (DESIGN
§2). Only :func:`configure` changes it, and only the entry
points call it: ``python -m paper_checks``, ``python -m figures``, the ``selfconsuming``
console script and the tests' ``conftest.py``. A user of the Python API who wants the cache
calls ``simulations.compilation_cache.configure()`` once, before the first computation.

Where the cache lives (the first that applies):

1. ``configure(cache_dir=...)``, i.e. ``--cache-dir DIR`` on the command lines;
2. the environment variable ``SELFCONSUMING_CACHE_DIR``;
3. the environment variable ``JAX_COMPILATION_CACHE_DIR`` (a cache the user set up for JAX);
4. the user cache folder of the platform + ``selfconsuming/jax/<jax version>-<cpu>``:
   ``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
   ``%LOCALAPPDATA%`` on Windows. The sub-folder names the jax version and the host's CPU
   (architecture and a hash of its instruction-set flags), so that a home folder shared by
   machines of different kinds (a cluster) never hands one CPU a program compiled for another,
   and so that the folders of old jax versions can be deleted as a whole.

``SELFCONSUMING_NO_CACHE=1`` (or ``--no-cache``) turns it off. :func:`configure` writes its
choice back into ``os.environ`` (``SELFCONSUMING_CACHE_DIR``, or ``SELFCONSUMING_NO_CACHE=1``)
so that worker processes started later inherit it: they call ``configure()`` with no argument
and get the same cache.

Clearing it: delete the folder (``selfconsuming cache`` prints it), or run
``selfconsuming cache clear``. It is safe to delete at any time, also while a run is going on;
the next run compiles again and refills it. It holds a few hundred small files (a few MB)
per jax version.

Results never depend on the cache: an entry is the compiled form of exactly the program that
its key (a hash of the program, the jax/jaxlib and backend versions, the XLA flags and the
compile options) names, and a program runs the same whether it was compiled now or loaded.
An entry that cannot be read (a file truncated by a process killed while writing it, or
overwritten with other bytes) fails the check of its compressed stream: JAX then warns
("Error reading persistent compilation cache entry …", a ``UserWarning``) and compiles the
program as if there were no cache (tests/simulations/test_compilation_cache.py checks this,
results included). Two things follow. (1) Where warnings are errors (``python -W error``,
pytest's ``filterwarnings = error``) that warning aborts the computation, so pyproject.toml
shows it instead of raising it: another process writing the shared folder at the same moment
(JAX writes entries in place, not atomically) must not fail a test. (2) JAX never overwrites
an existing entry, so a damaged one stays and warns in every run until the folder is cleared
(``selfconsuming cache clear``). JAX compresses entries with zlib, whose Adler-32 checksum
catches any damage, unless ``zstandard`` is installed or Python is 3.14 or later: then zstd,
whose frames JAX writes without a checksum, so a flipped bit inside an entry could pass;
delete the folder after a disk error.

The cache is trusted code: whoever can write to its folder can make the toolkit run programs
of their choice, so do not point it at a folder that others can write to.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import warnings

ENV_DIR = "SELFCONSUMING_CACHE_DIR"
ENV_OFF = "SELFCONSUMING_NO_CACHE"
JAX_ENV_DIR = "JAX_COMPILATION_CACHE_DIR"

# Every program is written, however fast it compiled: on a 2-core CPU the warm run of
# tests/simulations/test_engine.py took 10.5 s of CPU with a threshold of 0 s (102 entries,
# 2.7 MB), 13.0 s with 0.1 s (42 entries) and 17.1 s with JAX's default of 1 s (25 entries),
# against 61-65 s cold: loading an entry (a file read and a deserialization, milliseconds)
# beats compiling even the programs of the eager jnp operations.
MIN_COMPILE_TIME_SECS = 0.0

_FALSE = ("", "0", "false", "no", "off")


def _user_cache_root() -> str:
    """The platform's folder for per-user caches."""
    if sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"),
                                                              "AppData", "Local")
    elif sys.platform == "darwin":
        root = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                ".cache")
    return root


def _cpu_tag() -> str:
    """The machine architecture and a short hash of the CPU's instruction-set flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):  # x86, arm
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
                    break
    except OSError:
        flags = platform.processor()
    digest = hashlib.sha256(flags.encode()).hexdigest()[:8]
    return f"{platform.machine() or 'cpu'}-{digest}"


def default_dir() -> str:
    """The default cache folder: the user cache folder + ``selfconsuming/jax/<version>-<cpu>``."""
    import jax

    return os.path.join(_user_cache_root(), "selfconsuming", "jax",
                        f"jax-{jax.__version__}-{_cpu_tag()}")


def disabled_by_env() -> bool:
    """True when ``SELFCONSUMING_NO_CACHE`` is set to anything but 0/false/no/off/empty."""
    return os.environ.get(ENV_OFF, "").strip().lower() not in _FALSE


def resolve_dir(cache_dir: str | None = None) -> str:
    """The folder :func:`configure` would use (see the module docstring for the order)."""
    chosen = cache_dir or os.environ.get(ENV_DIR) or os.environ.get(JAX_ENV_DIR) or default_dir()
    return os.path.abspath(os.path.expanduser(chosen))


def configure(cache_dir: str | None = None, enabled: bool | None = None) -> str | None:
    """Turn JAX's persistent compilation cache on (or off) for this process and its children.

    ``cache_dir``: the folder (default: ``$SELFCONSUMING_CACHE_DIR``, then
    ``$JAX_COMPILATION_CACHE_DIR``, then :func:`default_dir`). ``enabled``: False turns the
    cache off; None (default) turns it on unless ``SELFCONSUMING_NO_CACHE`` is set. Sets
    ``jax_compilation_cache_dir``, ``jax_persistent_cache_min_compile_time_secs``
    (:data:`MIN_COMPILE_TIME_SECS`), ``jax_persistent_cache_min_entry_size_bytes`` (0: any
    size) and ``jax_enable_compilation_cache``, and writes the choice to ``os.environ`` for
    worker processes. Call it before the first computation; calling it again with another
    folder switches to that folder.

    Returns the folder in use, or None when the cache is off (also when the folder cannot be
    created or written: then a warning says why and the run goes on without a cache).
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache as _cc

    if enabled is None:
        enabled = not disabled_by_env()
    if not enabled:
        os.environ[ENV_OFF] = "1"
        jax.config.update("jax_enable_compilation_cache", False)
        _cc.reset_cache()
        return None
    path = resolve_dir(cache_dir)
    try:
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"folder {path!r} is not writable")
    except OSError as exc:
        warnings.warn(f"compilation cache off: cannot use {path!r} ({exc}); set "
                      f"{ENV_DIR} to another folder", RuntimeWarning, stacklevel=2)
        return configure(enabled=False)
    os.environ[ENV_DIR] = path
    os.environ.pop(ENV_OFF, None)
    changed = (jax.config.jax_compilation_cache_dir != path
               or not jax.config.jax_enable_compilation_cache)
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_SECS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if changed:
        _cc.reset_cache()  # JAX opens its cache folder once: make it open the new one
    return path


def clear(cache_dir: str | None = None) -> tuple[str, int]:
    """Delete the cache folder (:func:`resolve_dir`); returns it and the bytes freed."""
    path = resolve_dir(cache_dir)
    size = _size(path)
    if os.path.isdir(path):
        shutil.rmtree(path)
    return path, size


def _size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def add_cli_options(parser) -> None:
    """``--cache-dir DIR`` and ``--no-cache`` on a command's argparse parser."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cache-dir", metavar="DIR", default=None,
                       help=f"compilation cache folder (default ${ENV_DIR} or "
                       "~/.cache/selfconsuming/jax/...)")
    group.add_argument("--no-cache", action="store_true",
                       help=f"compile every program afresh (also ${ENV_OFF}=1)")


def configure_from_args(args) -> str | None:
    """:func:`configure` from the options of :func:`add_cli_options` (absent ones: defaults)."""
    no_cache = getattr(args, "no_cache", False)
    return configure(getattr(args, "cache_dir", None), enabled=False if no_cache else None)


def add_subcommand(sub) -> None:
    """``selfconsuming cache [clear] [--cache-dir DIR]``: print the folder, or delete it."""
    p = sub.add_parser("cache", help="print the compilation cache folder and its size, or "
                       "delete it ('cache clear')")
    p.add_argument("action", nargs="?", choices=("info", "clear"), default="info")
    p.add_argument("--cache-dir", metavar="DIR", default=None, help="another cache folder")
    p.set_defaults(fn=_cache_command)


def _cache_command(args) -> int:
    if args.action == "clear":
        path, size = clear(args.cache_dir)
        print(f"deleted {path} ({size / 2**20:.1f} MiB)")
        return 0
    path = resolve_dir(args.cache_dir)
    state = "off (SELFCONSUMING_NO_CACHE is set)" if disabled_by_env() else "on"
    n = sum(f.endswith("-cache") for _r, _d, fs in os.walk(path) for f in fs)
    print(f"{path}\n{state}; {n} entries, {_size(path) / 2**20:.1f} MiB")
    return 0
