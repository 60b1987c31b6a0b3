from ..models.media import Media, MediaContent, MediaThumbnail, UrlPreview


def up(db):
    db.create_tables([MediaContent, Media, MediaThumbnail, UrlPreview])
