"""The scheduler: releases stored notifications when their time comes."""
