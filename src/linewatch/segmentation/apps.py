from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "linewatch.segmentation"
    label = "segmentation"
    verbose_name = "Segmentation"
