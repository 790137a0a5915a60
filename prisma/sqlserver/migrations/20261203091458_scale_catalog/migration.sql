BEGIN TRY

BEGIN TRAN;

-- DropIndex
DROP INDEX [files_storage_provider_md5_idx] ON [dbo].[files];

-- DropIndex
DROP INDEX [files_job_id_updated_at_idx] ON [dbo].[files];

-- CreateTable
CREATE TABLE [dbo].[stored_objects] (
    [destination] NVARCHAR(16) NOT NULL,
    [key_hash] NVARCHAR(64) NOT NULL,
    [storage_key] NVARCHAR(1024) NOT NULL,
    [md5] NVARCHAR(32),
    [size] BIGINT,
    [job_id] NVARCHAR(36) NOT NULL,
    [drive_id] NVARCHAR(200) NOT NULL,
    [updated_at] DATETIME2 NOT NULL,
    CONSTRAINT [stored_objects_pkey] PRIMARY KEY CLUSTERED ([destination],[key_hash])
);

-- CreateIndex
CREATE NONCLUSTERED INDEX [files_job_id_status_updated_at_idx] ON [dbo].[files]([job_id], [status], [updated_at]);

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
