DROP TABLE deal_attributions;
