#!/usr/bin/env bash
# Test-sequence run in the style of the HM/VTM CTC scripts: sequences x QPs x codecs, each encoded
# and decoded through gvcodec's own CLI (decoded MD5s checked), one results CSV (the decoder adds its
# frames/s to each row), one BD-rate table.
#
#   bin/ctc.sh [-s "clip1 clip2 ..."] [-q "22 27 32 37"] [-c "x264 x265"] [-a ANCHOR] [-f FRAMES] [-o OUTDIR]
#              [-C cfg/randomaccess.cfg] [-p PLOTDIR]
#
# Sequences are file names in $GVCODEC_SHARED/sequences (default ../shared/sequences); the
# per-sequence cfg cfg/per-sequence/<stem>.cfg supplies size and frame rate. Codec names that are
# not classical (x264, x265, svtav1) are passed as --Model; a word NAME:Key=Value:... adds those options
# to that codec alone and labels its rows (-c "x265 givic-tiny givic-tiny:OverfitSteps=0"). Extra
# gvcodec options for every codec go in $CTC_EXTRA;
# CTC_MD=docs/results.md also writes each BD-rate table (and median speeds) into that file.
# -C picks the coding-structure cfg (default cfg/lowdelay.cfg); -p writes RD plots there (gvcodec plot).
# CTC_METRICS="lpips-alex,dists,ewarp,..." also measures each decoded video with `gvcodec metrics`
# into metrics.csv (its own BD-rate tables and plots); see docs/metrics.md for the weights they need.
# `gvcodec ctc -s ... -q ... -c ... [-C cfg] [HM options]` runs the same sweep in one process (no start-up
# per encode/decode; docs/results.md "Start-up").
set -euo pipefail
cmdline="bin/ctc.sh $*"
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GVCODEC_SHARED:-$here/../shared}"
seqs="" qps="22 27 32 37" codecs="x264 x265" anchor="" frames=33 out="$here/out/ctc"
structure="$here/cfg/lowdelay.cfg" plots=""
while getopts "s:q:c:a:f:o:C:p:h" opt; do
  case $opt in
    s) seqs=$OPTARG ;; q) qps=$OPTARG ;; c) codecs=$OPTARG ;; a) anchor=$OPTARG ;;
    f) frames=$OPTARG ;; o) out=$OPTARG ;; C) structure=$OPTARG ;; p) plots=$OPTARG ;;
    *) sed -n '2,20p' "$0"; exit 0 ;;
  esac
done
if [ -z "$seqs" ]; then
  [ -f "$shared/sequences/MANIFEST.tsv" ] || { echo "ctc.sh: no sequences in $shared/sequences" >&2; exit 1; }
  seqs=$(awk -F'\t' 'NR > 1 && $1 !~ /\.tar\./ {print $1}' "$shared/sequences/MANIFEST.tsv")
fi
anchor=${anchor:-${codecs%% *}}
mkdir -p "$out/logs" "$out/streams"
csv="$out/results.csv"
rm -f "$csv" "$out/metrics.csv"
for seq in $seqs; do
  stem="${seq%.*}"
  path="$shared/sequences/$seq"
  [ -f "$path" ] || { echo "ctc.sh: missing $path" >&2; exit 1; }
  seqcfg=()
  [ -f "$here/cfg/per-sequence/$stem.cfg" ] && seqcfg=(-c "$here/cfg/per-sequence/$stem.cfg")
  for codec in $codecs; do
    # a codec word NAME:Key=Value:Key=Value adds those options; the whole word labels its rows
    name=${codec%%:*} variant=()
    if [ "$name" != "$codec" ]; then
      IFS=: read -ra kv <<< "${codec#*:}"
      for o in "${kv[@]}"; do variant+=("--$o"); done
    fi
    case $name in x264|x265|svtav1) sel="--Codec=$name" ;; *) sel="--Model=$name" ;; esac
    for qp in $qps; do
      tag="${stem}_${codec//[:=]/_}_q${qp}"
      echo "== $tag" >&2
      gvcodec encode -c "$structure" "${seqcfg[@]}" -i "$path" -f "$frames" -q "$qp" "$sel" "${variant[@]}" \
        -b "$out/streams/$tag.gvc" --ReconFile= --ResultsFile="$csv" --SequenceName="$stem" --CodecLabel="$codec" \
        ${CTC_EXTRA:-} > "$out/logs/$tag.enc.log"
      if [ -n "${CTC_METRICS:-}" ]; then
        gvcodec decode -b "$out/streams/$tag.gvc" -o "$out/dec.y4m" --ResultsFile="$csv" > "$out/logs/$tag.dec.log"
        gvcodec metrics -w 1 "${seqcfg[@]}" -r "$path" -d "$out/dec.y4m" -f "$frames" -b "$out/streams/$tag.gvc" \
          -m "$CTC_METRICS" --ResultsFile="$out/metrics.csv" --SequenceName="$stem" --CodecLabel="$codec" > "$out/logs/$tag.metrics.log"
        rm -f "$out/dec.y4m"
      else
        gvcodec decode -b "$out/streams/$tag.gvc" --ResultsFile="$csv" > "$out/logs/$tag.dec.log"
      fi
    done
  done
done
for codec in $codecs; do
  [ "$codec" = "$anchor" ] && continue
  echo
  echo "BD-rate of $codec against $anchor (PCHIP, rate = bpp):"
  # bdrate exits 1 when no cell can be computed (curves that do not overlap): say so, go on
  gvcodec bdrate "$csv" --anchor "$anchor" --test "$codec" ${CTC_MD:+--md "$CTC_MD" --note "Command: \`$cmdline\` (constant QP, $(basename "$structure"))."} | tee "$out/bdrate_${codec//[:=]/_}_vs_${anchor//[:=]/_}.txt" \
    || echo "ctc.sh: no BD-rate of $codec against $anchor (above); the rows are in $csv" >&2
  if [ -f "$out/metrics.csv" ]; then
    echo "BD-rate of $codec against $anchor on the CTC_METRICS columns:"
    gvcodec bdrate "$out/metrics.csv" --anchor "$anchor" --test "$codec" | tee "$out/bdrate_metrics_${codec//[:=]/_}_vs_${anchor//[:=]/_}.txt" \
      || echo "ctc.sh: no BD-rate of $codec against $anchor on the CTC_METRICS columns" >&2
  fi
done
if [ -n "$plots" ]; then
  gvcodec plot "$csv" -o "$plots" --anchor "$anchor"
  if [ -f "$out/metrics.csv" ]; then gvcodec plot "$out/metrics.csv" -o "$plots/metrics" --anchor "$anchor"; fi
fi
echo "results: $csv" >&2
