"""Open files as their users' tools do: Debian's headless Chromium (through Playwright, never a downloaded
browser), LibreOffice headless (a workbook printed to PDF, as a clerk would print it) and poppler's
pdfinfo / pdffonts (pages, embedded fonts).

The fixtures are in tests/conftest.py (`browser`, `page_at`, `office`); a missing tool skips on a
developer's machine and fails in CI (`service_missing`), where .ci/run installs the Debian packages:
chromium, libreoffice-calc-nogui, poppler-utils, fonts-noto-cjk.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# As root, with no network but loopback: no sandbox, no background connections (refused here, slow to fail).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} (Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package (requirements-test.txt)"
    return None


def office_missing() -> str | None:
    missing = [tool for tool in ("soffice", "pdfinfo", "pdffonts") if shutil.which(tool) is None]
    return f"{', '.join(missing)} (Debian's libreoffice-calc-nogui, poppler-utils)" if missing else None


def cjk_font_missing() -> str | None:
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    return None if out.strip() else "a Chinese font (Debian's fonts-noto-cjk)"


def to_pdf(document: Path, out_dir: Path, *, timeout: int = 240) -> Path:
    """LibreOffice headless prints `document` (xlsx, html, …) to PDF in out_dir, as File > Export as PDF does; a profile of
    its own each time (two conversions at once would otherwise share, and block on, one profile)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gateway-lo-") as profile:
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(out_dir), str(document)],
            capture_output=True, text=True, timeout=timeout,
        )
    pdf = out_dir / (Path(document).stem + ".pdf")
    if result.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"LibreOffice did not convert {document}: rc={result.returncode} {result.stdout[-500:]} {result.stderr[-500:]}")
    return pdf


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if k}


def pdf_pages(pdf: Path) -> int:
    return int(pdf_info(pdf)["Pages"])


def pdf_page_size_mm(pdf: Path) -> tuple[float, float]:
    """The first page's width and height in millimetres (A4 landscape ≈ 297 × 210)."""
    w, h = re.match(r"([\d.]+) x ([\d.]+) pts", pdf_info(pdf)["Page size"]).groups()
    return round(float(w) * 25.4 / 72, 1), round(float(h) * 25.4 / 72, 1)


def pdf_fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts' table: one dict per font with name, type, emb (yes/no), sub, uni."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    fonts = []
    for line in lines[2:]:  # header and dashes
        parts = line.split()
        if len(parts) >= 7:
            # name type [type2] encoding emb sub uni object ID: read emb/sub/uni from the right
            fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return fonts


def horizontal_overflow(page) -> dict:
    """How far a Playwright page's document is wider than its viewport, and which elements stick out (the first ten):
    {"overflow_px": int, "elements": [{"tag", "id", "class", "right"}]}. 0 = fits without a horizontal scroll bar."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const overflow = Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0) - width;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && r.width > 0) {
                    out.push({tag: el.tagName, id: el.id, class: String(el.className), right: Math.round(r.right)});
                    if (out.length >= 10) break;
                }
            }
            return {overflow_px: overflow, elements: out};
        }"""
    )
