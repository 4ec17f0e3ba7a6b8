"""`gvcodec info --model NAME --complexity WxH [--measure]`: the seed's Tables 2-4 layout."""


def test_complexity_table_for_two_sizes(run_cli):
    out = run_cli("info", "--model", "gnvc-vd-tiny", "--complexity", "64x64,128x64", "--frames", 5, "--measure",
                  check_rc=0).stdout
    lines = out.splitlines()
    assert lines[0] == "model gnvc-vd-tiny" and any(line.startswith("total") for line in lines)  # parameter table
    res = next(line for line in lines if line.startswith("Resolutions"))
    assert res.split()[1:] == ["64", "x", "64", "128", "x", "64"]
    kmacs = next(line for line in lines if line.startswith("Enc./Dec. kMACs per pixel")).split()[-2:]
    assert all(len(v.split("/")) == 2 and all(float(x) > 0 for x in v.split("/")) for v in kmacs)
    for label in ("Peak Mem. (GB)", "Encoding ms/frame", "Decoding ms/frame", "  dec. VAE decode"):
        assert any(line.startswith(label) for line in lines), label
    assert "measured on cpu with seeded random weights" in out


def test_complexity_errors_are_one_line(run_cli):
    for args, message in ((("--complexity", "64x64"), "--complexity and --measure need --model NAME"),
                          (("--model", "gnvc-vd-tiny", "--complexity", "64by64"), "--complexity wants WxH"),
                          (("--model", "gnvc-vd-tiny", "--complexity", "64x64", "--frames", 6), "1 + 4k frames"),
                          (("--model", "gnvc-vd-tiny", "--complexity", "64x64", "--measure", "--Device=cuda:9"),
                           "Device: cuda:9 requested but torch sees")):
        proc = run_cli("info", *args)
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
