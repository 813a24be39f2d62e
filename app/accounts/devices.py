"""A browser's User-Agent in plain words ("Chrome on Linux") for the sessions list.

A few ordered substring rules, enough for a person to recognise their own device; no
library, since nothing depends on the answer being exact.
"""
from __future__ import annotations

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("Edge/", "Edge"),
    ("OPR/", "Opera"), ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"), ("YaBrowser/", "Yandex Browser"),
    ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("MSIE ", "Internet Explorer"), ("Trident/", "Internet Explorer"),
    ("curl/", "curl"), ("python-requests/", "a Python script"), ("Wget/", "Wget"),
)
SYSTEMS = (
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("iPod", "iPod"),
    ("Android", "Android"), ("CrOS", "ChromeOS"),
    ("Windows", "Windows"), ("Macintosh", "macOS"), ("Mac OS X", "macOS"),
    ("Ubuntu", "Ubuntu"), ("Fedora", "Fedora"), ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"), ("OpenBSD", "OpenBSD"),
)


def _first(user_agent: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in rules if marker in user_agent), None)


def describe_device(user_agent: str | None) -> str:
    """"Chrome on Linux", "Safari on iPhone", "Firefox", "Unknown device"."""
    user_agent = user_agent or ""
    browser, system = _first(user_agent, BROWSERS), _first(user_agent, SYSTEMS)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown device"
