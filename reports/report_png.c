/* PNG export (reports/report_png.h): librsvg parses the SVG, cairo paints it
 * on an image surface and writes the PNG.
 *
 * Owns: the handle and surface of one call. Must never: abort on a bad SVG
 * (GLib errors come back as values), or paint beyond REP_PNG_SIDE_MAX. */
#include "reports/report_png.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<librsvg/rsvg.h>)
#define REP_HAVE_RSVG 1
#endif
#endif

#ifdef REP_HAVE_RSVG
#include <cairo.h>
#include <librsvg/rsvg.h>

bool rep_png_available(void) { return true; }

/* Under LeakSanitizer: fontconfig, pango and GLib keep process-lifetime
 * caches (font lists, type registry) that they never free; those are not
 * our leaks. Only stacks through these libraries are suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libpango\nleak:libglib-2.0.so\nleak:libgobject-2.0.so\n"
           "leak:librsvg-2.so\nleak:libcairo.so\nleak:libharfbuzz.so\nleak:libfreetype.so\n";
}

static int png_fail(GError *e, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "png: %s%s%s", what, e ? ": " : "", e ? e->message : "");
    if (e)
        g_error_free(e);
    return -1;
}

/* Paints the handle at scale on a white surface and writes it to path. */
static int png_paint(RsvgHandle *h, double w, double hgt, double scale, const char *path, char *err,
                     size_t errlen)
{
    int wpx = (int)ceil(w * scale), hpx = (int)ceil(hgt * scale);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, wpx, hpx);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    RsvgRectangle vp = {0, 0, w, hgt};
    GError *e = NULL;
    int rc = 0;
    if (!rsvg_handle_render_document(h, cr, &vp, &e))
        rc = png_fail(e, "cannot render the SVG", err, errlen);
    cairo_destroy(cr);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (rc == 0 && cairo_surface_write_to_png(s, tmp) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "png: %s: cannot write", tmp);
        rc = -1;
    }
    cairo_surface_destroy(s);
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "png: %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        remove(tmp);
    return rc;
}

int rep_png_write(const char *svg, size_t len, double scale, const char *png_path, char *err, size_t errlen)
{
    if (!svg || !len || !png_path || !(scale > 0) || scale > 16)
        return png_fail(NULL, "an SVG, a scale in (0, 16] and a path are required", err, errlen);
    GError *e = NULL;
    RsvgHandle *h = rsvg_handle_new_from_data((const guint8 *)svg, len, &e);
    if (!h)
        return png_fail(e, "cannot parse the SVG", err, errlen);
    double w = 0, hgt = 0;
    int rc;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hgt) || !(w >= 1) || !(hgt >= 1))
        rc = png_fail(NULL, "the SVG has no size in pixels", err, errlen);
    else if (w * scale > REP_PNG_SIDE_MAX || hgt * scale > REP_PNG_SIDE_MAX) {
        snprintf(err, errlen, "png: %.0fx%.0f px exceeds %d px a side", w * scale, hgt * scale, REP_PNG_SIDE_MAX);
        rc = -1;
    } else
        rc = png_paint(h, w, hgt, scale, png_path, err, errlen);
    g_object_unref(h);
    return rc;
}

int rep_png_ink(const char *png_path, int *width, int *height, long *ink_px, char *err, size_t errlen)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(png_path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "png: %s: %s", png_path, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    long ink = 0;
    for (int y = 0; px && y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(px + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++)
            ink += (row[x] & 0xFFFFFFu) != 0xFFFFFFu;
    }
    cairo_surface_destroy(s);
    *width = w, *height = h, *ink_px = ink;
    return 0;
}

#else /* built without librsvg */

bool rep_png_available(void) { return false; }

int rep_png_write(const char *svg, size_t len, double scale, const char *png_path, char *err, size_t errlen)
{
    (void)svg, (void)len, (void)scale, (void)png_path;
    snprintf(err, errlen, "png: this zablab was built without librsvg (Makefile: pkg-config librsvg-2.0)");
    return -1;
}

int rep_png_ink(const char *png_path, int *width, int *height, long *ink_px, char *err, size_t errlen)
{
    (void)png_path, (void)width, (void)height, (void)ink_px;
    snprintf(err, errlen, "png: this zablab was built without librsvg (Makefile: pkg-config librsvg-2.0)");
    return -1;
}

#endif
