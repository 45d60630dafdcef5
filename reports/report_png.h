/* PNG export of the space-time diagram: renders the standalone SVG that
 * --svg writes (reports/report_svg.c) to a PNG in-process with librsvg and
 * cairo, for slides and for tools that do not take SVG.
 *
 * Owns: nothing between calls; the PNG file it writes.
 * Must never: shell out to a converter, write an image larger than
 * REP_PNG_SIDE_MAX pixels a side, or leave a half-written PNG behind.
 * Built without librsvg (its headers not on the include path), every call
 * fails with a message and rep_png_available() is false. */
#ifndef ZABLAB_REPORTS_REPORT_PNG_H
#define ZABLAB_REPORTS_REPORT_PNG_H

#include <stdbool.h>
#include <stddef.h>

#define REP_PNG_SIDE_MAX 16384
#define REP_PNG_SCALE 2.0      /* pixels per SVG unit: crisp on a projector */

bool rep_png_available(void);

/* Renders svg[0..len) at `scale` onto a white background into png_path.
 * 0, or -1 with a message in err (bad SVG, too large, I/O). */
int rep_png_write(const char *svg, size_t len, double scale, const char *png_path, char *err, size_t errlen);

/* Reads a PNG back (for tests and checks): its size, and how many pixels
 * differ from white. 0, or -1 with a message in err. */
int rep_png_ink(const char *png_path, int *width, int *height, long *ink_px, char *err, size_t errlen);

#endif
