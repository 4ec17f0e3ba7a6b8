#!/usr/bin/env bash
# Test-sequence run in the style of the HM/VTM CTC scripts: sequences x QPs x codecs, each encoded
# and decoded through gvcodec's own CLI (decoded MD5s checked), one results CSV, one BD-rate table.
#
#   bin/ctc.sh [-s "clip1 clip2 ..."] [-q "22 27 32 37"] [-c "x264 x265"] [-a ANCHOR] [-f FRAMES] [-o OUTDIR]
#
# Sequences are file names in $GVCODEC_SHARED/sequences (default ../shared/sequences); the
# per-sequence cfg cfg/per-sequence/<stem>.cfg supplies size and frame rate. Codec names that are
# not classical (x264, x265, svtav1) are passed as --Model. Extra gvcodec options go in $CTC_EXTRA;
# CTC_MD=docs/results.md also writes each BD-rate table (and median speeds) into that file.
set -euo pipefail
cmdline="bin/ctc.sh $*"
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GVCODEC_SHARED:-$here/../shared}"
seqs="" qps="22 27 32 37" codecs="x264 x265" anchor="" frames=33 out="$here/out/ctc"
while getopts "s:q:c:a:f:o:h" opt; do
  case $opt in
    s) seqs=$OPTARG ;; q) qps=$OPTARG ;; c) codecs=$OPTARG ;; a) anchor=$OPTARG ;;
    f) frames=$OPTARG ;; o) out=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 0 ;;
  esac
done
if [ -z "$seqs" ]; then
  [ -f "$shared/sequences/MANIFEST.tsv" ] || { echo "ctc.sh: no sequences in $shared/sequences" >&2; exit 1; }
  seqs=$(awk -F'\t' 'NR > 1 && $1 !~ /\.tar\./ {print $1}' "$shared/sequences/MANIFEST.tsv")
fi
anchor=${anchor:-${codecs%% *}}
mkdir -p "$out/logs" "$out/streams"
csv="$out/results.csv"
rm -f "$csv"
for seq in $seqs; do
  stem="${seq%.*}"
  path="$shared/sequences/$seq"
  [ -f "$path" ] || { echo "ctc.sh: missing $path" >&2; exit 1; }
  seqcfg=()
  [ -f "$here/cfg/per-sequence/$stem.cfg" ] && seqcfg=(-c "$here/cfg/per-sequence/$stem.cfg")
  for codec in $codecs; do
    case $codec in x264|x265|svtav1) sel="--Codec=$codec" ;; *) sel="--Model=$codec" ;; esac
    for qp in $qps; do
      tag="${stem}_${codec}_q${qp}"
      echo "== $tag" >&2
      gvcodec encode -c "$here/cfg/lowdelay.cfg" "${seqcfg[@]}" -i "$path" -f "$frames" -q "$qp" "$sel" \
        -b "$out/streams/$tag.gvc" --ReconFile= --ResultsFile="$csv" --SequenceName="$stem" \
        ${CTC_EXTRA:-} > "$out/logs/$tag.enc.log"
      gvcodec decode -b "$out/streams/$tag.gvc" > "$out/logs/$tag.dec.log"
    done
  done
done
for codec in $codecs; do
  [ "$codec" = "$anchor" ] && continue
  echo
  echo "BD-rate of $codec against $anchor (PCHIP, rate = bpp):"
  gvcodec bdrate "$csv" --anchor "$anchor" --test "$codec" ${CTC_MD:+--md "$CTC_MD" --note "Command: \`$cmdline\` (low-delay P, constant QP, cfg/lowdelay.cfg)."} | tee "$out/bdrate_${codec}_vs_${anchor}.txt"
done
echo "results: $csv" >&2
