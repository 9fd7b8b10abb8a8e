module portal.local/cluster/pause

go 1.24
