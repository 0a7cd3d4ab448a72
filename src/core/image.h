/*
 * image.h: an image's metadata as a whole: the header this machine writes,
 * and the parse of everything up to the mark into the model, with the
 * checks that make the model safe to act on.
 */
#ifndef CORE_IMAGE_H
#define CORE_IMAGE_H

#include "model/model.h"
#include "img/codec.h"

void image_make_header(struct ckpt_hdr_image *hdr);
/* Reads the header and every record up to the mark (verified) into img. */
int image_read_meta(struct img_reader *r, struct ck_image *img);

#endif
