"""The Qt platform check: missing system libraries become one line with the install command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastvit_fx.app import platform_check
from fastvit_fx.app.platform_check import XCB_PLUGIN_LIBRARIES, can_load, qt_platform_problem, uses_xcb

REPO = Path(__file__).resolve().parent.parent
DEBIAN = 'PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
X11 = {"DISPLAY": ":0"}


def without(*sonames):
    return lambda soname: soname not in sonames


def test_missing_xcb_libraries_name_the_packages_and_the_command():
    line = qt_platform_problem(X11, "linux", without("libxcb-cursor.so.0", "libxcb-keysyms.so.1"), DEBIAN)
    assert line == ("the window cannot open: Qt needs system libraries for its X11 (xcb) platform plugin that are "
                    "missing (libxcb-cursor.so.0, libxcb-keysyms.so.1); install them with: "
                    "sudo apt-get install libxcb-cursor0 libxcb-keysyms1")
    line = qt_platform_problem(X11, "linux", without("libxcb-icccm.so.4"), FEDORA)
    assert line.endswith("install them with: sudo dnf install xcb-util-wm")
    line = qt_platform_problem(X11, "linux", without("libxcb-icccm.so.4"), "ID=arch\n")
    assert "sudo apt-get install libxcb-icccm4 (Debian/Ubuntu) or sudo dnf install xcb-util-wm (Fedora)" in line
    assert "\n" not in line


def test_nothing_to_say_when_everything_loads_or_xcb_is_not_used():
    assert qt_platform_problem(X11, "linux", lambda soname: True, DEBIAN) is None
    no_xcb = without(*XCB_PLUGIN_LIBRARIES)
    assert qt_platform_problem({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", no_xcb, DEBIAN) is None
    assert qt_platform_problem({}, "linux", no_xcb, DEBIAN) is None  # no display: nothing opens xcb
    wayland = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
    assert qt_platform_problem(wayland, "linux", no_xcb, DEBIAN) is None
    assert qt_platform_problem(X11, "darwin", lambda soname: False, DEBIAN) is None  # macOS needs none
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}) and uses_xcb({"QT_QPA_PLATFORM": "xcb:dpi=96"})


def test_gui_libraries_are_checked_even_offscreen():
    line = qt_platform_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", without("libEGL.so.1"), DEBIAN)
    assert "for its GUI module" in line and line.endswith("sudo apt-get install libegl1")


def test_the_loader_is_asked_by_exact_name():
    assert can_load("libc.so.6") if sys.platform.startswith("linux") else True
    assert not can_load("libfastvit-fx-no-such-library.so.7")


def test_a_faked_missing_library_is_found_by_the_real_loader_path(monkeypatch):
    """The default loader (ctypes) is what runs in the app: make one library fail to load there."""
    real = platform_check.ctypes.CDLL

    def cdll(name, *args, **kwargs):
        if name == "libxcb-cursor.so.0":
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(platform_check.ctypes, "CDLL", cdll)
    missing = platform_check.missing_libraries(X11)
    assert "libxcb-cursor.so.0" in missing
    assert missing["libxcb-cursor.so.0"] == ("libxcb-cursor0", "xcb-util-cursor")


def test_the_check_imports_no_qt():
    code = ("import sys; from fastvit_fx.app.platform_check import qt_platform_problem; qt_platform_problem(); "
            "assert not [m for m in sys.modules if m.startswith('PyQt')], 'Qt imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
