"""A synthetic Simpeg export: ``n`` valid civil servants (unique, well-formed NIPs), each under a
supervisor from earlier in the file, spread over the demo offices (bench/imports.py, tests)."""
from __future__ import annotations

import csv
import io

OFFICES = ("kantor-denpasar", "kantor-jakarta", "kantor-jayapura")
HEADER = ("nip", "nama", "unit_kerja", "kantor", "nip_atasan", "peran")


def nip(i: int) -> str:
    """The i-th NIP: birth 1980-1994, appointed 2014-2023, unique for i < 5040 * 999."""
    b = i % 5040
    birth = f"19{80 + b // 336:02d}{1 + (b // 28) % 12:02d}{1 + b % 28:02d}"
    return f"{birth}20{14 + i % 10:02d}{1 + i % 12:02d}{1 + i % 2}{1 + i // 5040:03d}"


def rows(n: int, unit_size: int = 20) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        head = i - i % unit_size
        out.append({"nip": nip(i), "nama": f"Pegawai {i:05d}", "unit_kerja": f"Unit {head // unit_size:04d}",
                    "kantor": OFFICES[(i // unit_size) % len(OFFICES)],
                    "nip_atasan": "" if i == head else nip(head),
                    "peran": "employee|supervisor" if i == head else "employee"})
    return out


def csv_bytes(records: list[dict[str, str]], delimiter: str = ";") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(HEADER), delimiter=delimiter, lineterminator="\r\n")
    w.writeheader()
    w.writerows(records)
    return buf.getvalue().encode("utf-8-sig")
