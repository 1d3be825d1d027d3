"""Before Qt starts: are the system libraries its platform plugin loads there?

Qt does not raise when its X11 (xcb) platform plugin cannot load a library: it prints a paragraph
and aborts the whole process (SIGABRT). The PyQt6 wheel brings Qt itself but not these system
libraries, and stock Debian/Ubuntu installs lack three of them (libxcb-cursor0, libxcb-icccm4,
libxcb-keysyms1). This module asks the dynamic loader for each one by its exact name (what Qt's
plugin will ask for) and turns what is missing into one line naming the packages and the command
that installs them. Pure Python: it must run before anything imports Qt.

    problem = qt_platform_problem()
    if problem:
        raise UserError(problem)
"""
from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# soname -> (Debian/Ubuntu package, Fedora package)
QT_GUI_LIBRARIES = {  # QtGui itself, whatever the platform plugin (import fails without them)
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
XCB_PLUGIN_LIBRARIES = {  # what PyQt6's libqxcb.so / libQt6XcbQpa.so load (ldd), beyond QtGui's
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
}


def can_load(soname: str) -> bool:
    """True if the dynamic loader finds `soname` (loading it is harmless: Qt would load it anyway)."""
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Will Qt pick its X11 plugin? Asked for by name, or by default on an X display (a Wayland
    session with no platform asked for gets Qt's Wayland plugin instead)."""
    platform = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if platform:
        return platform == "xcb"
    if environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return False
    return bool(environ.get("DISPLAY"))


def missing_libraries(environ: Mapping[str, str] | None = None,
                      loadable: Callable[[str], bool] = can_load) -> dict[str, tuple[str, str]]:
    """The libraries Qt will need here and cannot find: {soname: (Debian package, Fedora package)}."""
    environ = os.environ if environ is None else environ
    needed = dict(QT_GUI_LIBRARIES)
    if uses_xcb(environ):
        needed.update(XCB_PLUGIN_LIBRARIES)
    return {soname: packages for soname, packages in needed.items() if not loadable(soname)}


def distro_family(os_release: str | None = None) -> str | None:
    """'debian', 'fedora' or None (unknown), from /etc/os-release's ID and ID_LIKE."""
    if os_release is None:
        try:
            with open("/etc/os-release", encoding="utf-8", errors="replace") as fh:
                os_release = fh.read()
        except OSError:
            return None
    words = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ID", "ID_LIKE"):
            words.update(value.strip().strip('"').lower().split())
    if words & {"debian", "ubuntu"}:
        return "debian"
    if words & {"fedora", "rhel", "centos"}:
        return "fedora"
    return None


def install_hint(missing: Mapping[str, tuple[str, str]], family: str | None) -> str:
    debian = " ".join(sorted({deb for deb, _ in missing.values()}))
    fedora = " ".join(sorted({fed for _, fed in missing.values()}))
    apt = f"sudo apt-get install {debian}"
    dnf = f"sudo dnf install {fedora}"
    if family == "debian":
        return apt
    if family == "fedora":
        return dnf
    return f"{apt} (Debian/Ubuntu) or {dnf} (Fedora)"


def qt_platform_problem(environ: Mapping[str, str] | None = None, platform: str | None = None,
                        loadable: Callable[[str], bool] = can_load, os_release: str | None = None) -> str | None:
    """One line naming the missing system libraries and the command that installs them, or None
    when Qt can start here (or this is not Linux: macOS and Windows wheels carry what they need)."""
    if not (platform or sys.platform).startswith("linux"):
        return None
    environ = os.environ if environ is None else environ
    missing = missing_libraries(environ, loadable)
    if not missing:
        return None
    plugin = "its X11 (xcb) platform plugin" if uses_xcb(environ) else "its GUI module"
    return (f"the window cannot open: Qt needs system libraries for {plugin} that are missing "
            f"({', '.join(missing)}); install them with: {install_hint(missing, distro_family(os_release))}")
