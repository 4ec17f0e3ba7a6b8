"""`gvcodec plot`: files from results CSVs, anchor choice, one-line errors."""

from pathlib import Path

HEADER = "sequence,codec,qp,frames,width,height,bpp,psnr_y,msssim\n"


def write_csv(path, sequence, codecs):
    lines = [HEADER]
    for codec, offset in codecs:
        for i, qp in enumerate((22, 27, 32, 37)):
            lines.append(f"{sequence},{codec},{qp},4,352,288,{0.4 / 2 ** i},{40 + offset - 3 * i},{0.99 - 0.01 * i}\n")
    Path(path).write_text("".join(lines))


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_plot_writes_rd_curves_and_bdrate_table(tmp_path, run_cli):
    write_csv(tmp_path / "a.csv", "foreman", (("x265", 0.0), ("x264", -1.0), ("neural", 1.0)))
    write_csv(tmp_path / "b.csv", "bus", (("x264", -1.0), ("x265", 0.0)))
    out = run_cli("plot", "a.csv", "b.csv", "-o", "figs", "--dpi", 40, check_rc=0).stdout.split()
    assert sorted(Path(p).name for p in out) == sorted(
        ["bdrate.png"] + [f"rd_{s}_{m}.png" for s in ("foreman", "bus") for m in ("psnr_y", "msssim")])
    assert all(is_png(tmp_path / p) for p in out)


def test_plot_options_and_errors(tmp_path, run_cli):
    write_csv(tmp_path / "r.csv", "foreman", (("x265", 0.0), ("neural", 1.0)))
    out = run_cli("plot", "r.csv", "-o", "o", "--metric", "psnr_y", "--anchor", "neural", "--dpi", 40, check_rc=0)
    assert out.stdout.split() == ["o/rd_foreman_psnr_y.png", "o/bdrate.png"]
    for args, message in ((["--metric", "vmaf"], "no values for metric(s) vmaf"),
                          (["--anchor", "vtm"], "anchor `vtm' has no rows"),
                          (["--method", "linear"], "unknown method")):
        proc = run_cli("plot", "r.csv", "-o", "o", *args, check_rc=1)
        assert proc.stderr.startswith(f"gvcodec: {message}") and proc.stderr.count("\n") == 1
    proc = run_cli("plot", "missing.csv", check_rc=1)
    assert proc.stderr.count("\n") == 1 and "cannot read results CSV" in proc.stderr
    write_csv(tmp_path / "one.csv", "foreman", (("x265", 0.0),))
    proc = run_cli("plot", "one.csv", "-o", "p", check_rc=0)
    assert "no BD-rate table" in proc.stderr and not (tmp_path / "p" / "bdrate.png").exists()
