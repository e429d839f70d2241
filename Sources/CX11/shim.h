#pragma once
#include <X11/Xlib.h>
#include <X11/Xauth.h>

/* Xlib's default error handlers print and exit(1): a launcher must report
 * failures itself. These record the last error code instead; callers check
 * return values and Status, then ask for the code. Xlib is used from one
 * thread only here, so a plain static is enough. */
static int CX11_last_error_code = 0;

static inline int CX11_record_error(Display *dpy, XErrorEvent *event) {
    (void)dpy;
    CX11_last_error_code = event->error_code;
    return 0;
}

/* Installs the recording handler and clears the last error; returns nothing
 * because the previous handler is never restored (the launcher owns Xlib). */
static inline void CX11_install_error_handler(void) {
    CX11_last_error_code = 0;
    XSetErrorHandler(CX11_record_error);
}

static inline int CX11_take_last_error(void) {
    int code = CX11_last_error_code;
    CX11_last_error_code = 0;
    return code;
}
